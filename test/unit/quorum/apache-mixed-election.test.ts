/**
 * The strongest proof of election wire compatibility: our election links +
 * FLE as server.1 of a 3-voter ensemble whose other two members are real
 * Apache ZooKeeper 3.8 servers. Apache's mode is read with `srvr`; ours is
 * the election's decision. (ZAB is the next stage: our peer stops at the
 * decision and never syncs, so an Apache leader needs the other Apache
 * server as its follower to serve; when only one Apache server is up, its
 * log shows whether our votes made it LEADING.)
 */
import * as fs from 'fs';
import { serverMode, waitFor } from '../../harness/four-letter-words';
import { ServerState } from '../../../src/server/quorum/election-wire';
import { ElectionNode } from '../../../src/server/quorum/election-node';
import { MajorityQuorum } from '../../../src/server/quorum/quorum-verifier';
import { ApachePeers, apacheAvailable, launchApachePeers, planEnsemble } from './apache-election-peers';

jest.setTimeout(180_000);

let apache: ApachePeers | undefined;
let ours: ElectionNode | undefined;
let observer: ElectionNode | undefined;
const logs: string[] = [];

beforeAll(() => {
  if (!apacheAvailable()) throw new Error('Apache ZooKeeper 3.8 is not installed: run bash test/setup/ensure-deps.sh');
});

afterEach(async () => {
  await ours?.close();
  ours = undefined;
  await observer?.close();
  observer = undefined;
  await apache?.stop();
  apache = undefined;
  logs.length = 0;
});

async function modes(plan: { clientPorts: Map<bigint, number> }, sids: bigint[]): Promise<(string | undefined)[]> {
  return Promise.all(sids.map((s) => serverMode('127.0.0.1', plan.clientPorts.get(s)!, 1500).catch(() => undefined)));
}

function startOurs(verifier: MajorityQuorum, myId = 1n): ElectionNode {
  ours = new ElectionNode({
    myId,
    verifier,
    history: () => ({ lastLoggedZxid: 0n, currentEpoch: 0n }),
    logger: (m) => logs.push(`${new Date().toISOString()} ${m}`),
  });
  return ours;
}

function explain(): string {
  const tails = apache ? [...apache.servers.values()].map((s) => `--- Apache ${s.id} ---\n${s.logTail(30)}`).join('\n') : '';
  return `--- ours ---\n${logs.slice(-30).join('\n')}\n${tails}`;
}

async function expectOrExplain(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    (err as Error).message += `\n${explain()}`;
    throw err;
  }
}

test('all start together: one Apache server leads, the other follows, our voter follows and our observer observes the same leader', async () => {
  const plan = await planEnsemble([1n, 2n, 3n, 4n], [4n]);
  const node = startOurs(new MajorityQuorum(plan.servers));
  await node.start();
  observer = new ElectionNode({
    myId: 4n,
    verifier: new MajorityQuorum(plan.servers),
    history: () => ({ lastLoggedZxid: 0n, currentEpoch: 0n }),
    logger: (m) => logs.push(`${new Date().toISOString()} [observer] ${m}`),
  });
  await observer.start();
  apache = launchApachePeers(plan, [2n, 3n]);
  await expectOrExplain(async () => {
    const m = await waitFor('Apache 2 and 3 to serve', async () => {
      const m = await modes(plan, [2n, 3n]);
      return m.every((x) => x === 'leader' || x === 'follower') ? m : undefined;
    }, 120_000, 250);
    // Usually 3 (highest sid); 2 when it started first and our vote made the quorum with it.
    expect([...m].sort()).toEqual(['follower', 'leader']);
    const leader = m[0] === 'leader' ? 2n : 3n;
    const d = await node.decided();
    expect(d.state).toBe(ServerState.FOLLOWING);
    expect(d.vote.leader).toBe(leader);
    const o = await observer!.decided();
    expect(o.state).toBe(ServerState.OBSERVING);
    expect(o.vote.leader).toBe(leader);
  });
});

test('our votes count: with server 2 down, Apache 3 becomes LEADING only through our peer', async () => {
  const plan = await planEnsemble([1n, 2n, 3n]);
  const node = startOurs(new MajorityQuorum(plan.servers));
  await node.start();
  apache = launchApachePeers(plan, [3n]);
  const log3 = `${apache.servers.get(3n)!.dir}/zookeeper.log`;
  await expectOrExplain(async () => {
    // Apache logs "LEADING" when its election (counting our vote) decides it leads.
    await waitFor('Apache 3 to decide LEADING', async () => {
      try {
        return /LEADING - LEADER ELECTION TOOK/.test(fs.readFileSync(log3, 'utf8'));
      } catch {
        return false;
      }
    }, 120_000, 250);
    // It decoded our notification: sid 1, LOOKING, voting for 3 in round 1.
    expect(fs.readFileSync(log3, 'utf8')).toMatch(/n\.sid:1, n\.state:LOOKING, n\.leader:3, n\.round:0x1/);
    const d = await node.decided();
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n } });
  });
});

test('our peer joins an ensemble that already has an Apache leader', async () => {
  const plan = await planEnsemble([1n, 2n, 3n]);
  apache = launchApachePeers(plan, [2n, 3n]);
  await expectOrExplain(async () => {
    await waitFor('Apache 2 and 3 to serve', async () => {
      const m = await modes(plan, [2n, 3n]);
      return m.every((x) => x === 'leader' || x === 'follower') ? m : undefined;
    }, 120_000, 250);
    const node = startOurs(new MajorityQuorum(plan.servers));
    await node.start();
    const d = await node.decided();
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n, peerEpoch: 1n } });
    // Joined out of election: the round is the one Apache decided in.
    expect(node.fle.round).toBe(d.vote.electionEpoch);
    expect(await modes(plan, [2n, 3n])).toEqual(['follower', 'leader']);
  });
});

test('our peer as the highest sid: it connects out to Apache 1 and 2, wins, and both Apache servers decide to follow it', async () => {
  const plan = await planEnsemble([1n, 2n, 3n]);
  // Ours first: otherwise Apache 1 and 2 could elect 2 between themselves before we are up.
  const node = startOurs(new MajorityQuorum(plan.servers), 3n);
  await node.start();
  apache = launchApachePeers(plan, [1n, 2n]);
  await expectOrExplain(async () => {
    const d = await node.decided();
    expect(d).toMatchObject({ state: ServerState.LEADING, vote: { leader: 3n }, via: 'round' });
    // Both Apache servers decided FOLLOWING 3 (they then fail to sync: our ZAB is the next stage).
    for (const sid of [1n, 2n]) {
      const file = `${apache!.servers.get(sid)!.dir}/zookeeper.log`;
      await waitFor(`Apache ${sid} to decide FOLLOWING`, async () => {
        try {
          return /FOLLOWING - LEADER ELECTION TOOK/.test(fs.readFileSync(file, 'utf8'));
        } catch {
          return false;
        }
      }, 60_000, 250);
    }
  });
});
