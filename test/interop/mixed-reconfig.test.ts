/**
 * Dynamic reconfiguration across the kinds (issue 8): a server of one kind
 * added by `reconfig` to an ensemble led by the other kind, as a participant
 * and as an observer, then removed again.
 *
 * Each ensemble is three voters of both kinds (reconfigEnabled=true, a super
 * digest on every member), its leader chosen as in mixed-ensemble.test.ts.
 * A joiner starts the way Apache's reconfig guide says: its zoo.cfg lists the
 * ensemble and itself (see MixedCluster.join); it learns the ensemble's newer
 * config from the election, follows the leader as a non-voting member, and
 * the reconfig makes it a participant (or an observer). Checked on every
 * member, of both kinds: getConfig and /zookeeper/config give the same text,
 * the `zoo.cfg.dynamic.<version>` file holds it, the joiner serves writes
 * made before it came, and a write through it reaches the others. Removed
 * again (`reconfig -remove`), the remaining members agree on the config
 * without it and still commit, and the removed server, of either kind, goes
 * on as a non-voting follower that serves (Apache's "non-voting
 * participant").
 *
 * Removing the leader: the voter it designates (Leader.getDesignatedLeader)
 * leads and the others, the old leader too, follow it with no election on
 * either kind (Apache's reconfigFlag and updateVote, ours the same), and
 * nothing committed is lost.
 *
 * Restarted, a removed server does not start, of either kind, nor does a
 * joiner restarted before a reconfig added it: the config it wrote (in
 * force, or adopted from the election) does not list it ("My id N not in
 * the peer list", exit code 1).
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { waitFor } from '../harness';
import { digestOf } from '../harness/digest';
import { MemberKind, MixedCluster, MixedMember, MixedMemberSpec, startMixed } from '../harness/mixed-cluster';
import { Clients } from '../integration/client-fixtures';

jest.setTimeout(120_000);

const log = (m: string) => process.stdout.write(`${m}\n`);
const SUPER = [{ scheme: 'digest', auth: 'super:test' }];

const A: MixedMemberSpec = { kind: 'apache' };
const O: MixedMemberSpec = { kind: 'ours' };

/** The config text without its version line, and the version. */
function splitConfig(text: string): { lines: string; version: bigint } {
  const m = /\nversion=([0-9a-f]+)$/.exec(text);
  if (!m) throw new Error(`no version line in ${JSON.stringify(text)}`);
  return { lines: text.slice(0, m.index), version: BigInt(`0x${m[1]}`) };
}

/** How ManagedServer.start fails for a server that refuses a config not listing it, either kind (QuorumPeer.start). */
function notInPeerList(sid: number): RegExp {
  return new RegExp(`exited during start-up \\(code 1, signal null\\)[\\s\\S]*My id ${sid} not in the peer list`);
}

/** zoo.cfg.dynamic.<version> as both kinds write it: the server lines sorted, no version, no final newline. */
function dynamicFileText(config: string): string {
  return splitConfig(config).lines.split('\n').sort().join('\n');
}

describe.each([
  // The highest-sid voter leads (see mixed-cluster.ts); the joiners are of the other kind.
  { name: 'our leader (sid 3), an Apache and our follower; Apache servers join', members: [A, O, O], joiner: 'apache' as MemberKind },
  { name: 'an Apache leader (sid 3), our and an Apache follower; our servers join', members: [O, A, A], joiner: 'ours' as MemberKind },
])('mixed reconfig: $name', ({ members, joiner }) => {
  let cluster: MixedCluster;
  const clients = new Clients();
  const base = `/mixrec-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    cluster = await startMixed(members, { reconfigEnabled: true, superDigest: digestOf('super', 'test'), joiners: 3 });
    log(`formed: ${await cluster.describe()}`);
  }, 100_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  const running = () => cluster.members.filter((m) => m.server.running());
  const connectTo = (m: MixedMember) => clients.connect(m.server.hostPort, { connectTimeout: 20_000 });
  const admin = () => clients.connect(cluster.members.slice(0, 3).map((m) => m.server.hostPort).join(','), { authInfo: SUPER, connectTimeout: 20_000 });

  /** Every member in `who` serves `config` through getConfig and /zookeeper/config, and wrote its dynamic file. */
  async function expectConfigEverywhere(who: MixedMember[], config: string): Promise<void> {
    const fileName = `zoo.cfg.dynamic.${splitConfig(config).version.toString(16)}`;
    for (const m of who) {
      const zk = await connectTo(m);
      let seen = '';
      await waitFor(`sid ${m.sid} (${m.kind}) to serve config ${fileName}`, async () => {
        await zk.sync('/zookeeper/config');
        seen = (await zk.getConfig()).data!.toString();
        return seen === config;
      }, 20_000).catch((e: Error) => {
        throw new Error(`${e.message}: it serves ${JSON.stringify(seen)}, expected ${JSON.stringify(config)}`);
      });
      expect({ sid: m.sid, data: (await zk.getData('/zookeeper/config')).data!.toString() }).toEqual({ sid: m.sid, data: config });
      const file = path.join(m.server.dir, fileName);
      await waitFor(`sid ${m.sid} (${m.kind}) to write ${file}`, async () => fs.existsSync(file), 10_000);
      expect({ sid: m.sid, file: fs.readFileSync(file, 'utf8') }).toEqual({ sid: m.sid, file: dynamicFileText(config) });
    }
  }

  test('the first leader versions the config; every member of both kinds serves it and wrote its file', async () => {
    const zk = await connectTo(cluster.members[2]);
    const config = (await zk.getConfig()).data!.toString();
    expect(splitConfig(config).lines).toBe([1, 2, 3].map((sid) => cluster.serverLine(sid)).join('\n'));
    await expectConfigEverywhere(cluster.members, config);
    const writer = await connectTo(cluster.members[0]);
    await writer.create(base, Buffer.from('before the joiners'));
  });

  test.each([
    { role: 'a participant', sid: 4, observer: false, mode: 'follower' },
    { role: 'an observer', sid: 5, observer: true, mode: 'observer' },
  ])(`a server of the joining kind is added as $role, syncs and serves, and is removed again: it follows as a non-voter and serves; restarted, it does not start`, async ({ sid, observer, mode }) => {
    const leader = cluster.members[2];
    expect(await leader.server.mode()).toBe('leader');
    const t0 = Date.now();
    const m = await cluster.join({ kind: joiner, sid, observer });
    const startedMs = Date.now() - t0;
    const su = await admin();
    const added = (await su.reconfig({ joining: cluster.serverLine(sid, observer) })).data!.toString();
    expect(splitConfig(added).lines).toBe([1, 2, 3].map((s) => cluster.serverLine(s)).concat(cluster.serverLine(sid, observer)).join('\n'));
    await expectConfigEverywhere(running(), added);
    await waitFor(`sid ${sid} (${m.kind}) to be a ${mode}`, async () => (await m.server.mode()) === mode, 30_000);
    const addedMs = Date.now() - t0;

    // It serves what was written before it came, and its writes reach the others.
    const onJoiner = await connectTo(m);
    await onJoiner.sync(base);
    expect((await onJoiner.getData(base)).data!.toString()).toBe('before the joiners');
    await onJoiner.create(`${base}/through-${sid}`, Buffer.from(m.kind));
    for (const other of cluster.members.slice(0, 3)) {
      const zk = await connectTo(other);
      await zk.sync(base);
      expect({ sid: other.sid, data: (await zk.getData(`${base}/through-${sid}`)).data!.toString() }).toEqual({ sid: other.sid, data: m.kind });
    }

    const removed = (await su.reconfig({ leaving: String(sid) })).data!.toString();
    expect(removed).not.toContain(`server.${sid}=`);
    expect(splitConfig(removed).version).toBeGreaterThan(splitConfig(added).version);
    await expectConfigEverywhere(cluster.members.slice(0, 3), removed);
    const writer = await connectTo(cluster.members[0]);
    await writer.create(`${base}/after-removing-${sid}`, null);
    expect(await leader.server.mode()).toBe('leader');
    await waitFor(`sid ${sid} (${m.kind}), removed, to follow as a non-voter`, async () => (await m.server.mode()) === 'follower', 30_000);
    const onRemoved = await connectTo(m);
    await onRemoved.sync(base);
    expect(await onRemoved.exists(`${base}/after-removing-${sid}`)).not.toBeNull();
    log(`sid ${sid} (${m.kind} ${mode}) under the ${leader.kind} leader sid 3: served in ${startedMs} ms, added and synced in ${addedMs} ms, removed and following after ${Date.now() - t0} ms`);
    // Restarted, it reads the config in force it wrote, which does not list it: it does not start.
    await m.server.kill();
    await expect(m.server.start()).rejects.toThrow(notInPeerList(sid));
  });

  test('a joiner restarted before a reconfig added it does not start: "My id N not in the peer list", exit code 1', async () => {
    const sid = 6;
    const m = await cluster.join({ kind: joiner, sid, observer: false });
    await waitFor(`sid ${sid} (${m.kind}) to follow as a non-voter`, async () => (await m.server.mode()) === 'follower', 30_000);
    await m.server.kill();
    await expect(m.server.start()).rejects.toThrow(notInPeerList(sid));
  });

  test('removing the leader: the voter it designated leads and the others follow it, with no election on either kind; nothing is lost', async () => {
    const [v1, v2, leader] = cluster.members.slice(0, 3);
    const voters = [v1, v2];
    // Through the leader: an Apache follower the reconfig moves to another leader ends its role as it applies the
    // commit, and the reply to a reconfig sent through it can be lost with the connection (ours answers first).
    const su = await clients.connect(leader.server.hostPort, { authInfo: SUPER, connectTimeout: 20_000 });
    const writer = await clients.connect(voters.map((m) => m.server.hostPort).join(','), { connectTimeout: 20_000 });
    await writer.create(`${base}-handover`, Buffer.from('before'));
    // Ours logs each round and the role a designation gives; Apache logs each round ("New election") and
    // updateVote's "Suggested leader".
    const logOf = (m: MixedMember) => path.join(m.server.dir, m.kind === 'ours' ? 'server.log' : 'zookeeper.log');
    const at = new Map([v1, v2, leader].map((m) => [m.sid, fs.statSync(logOf(m)).size]));
    const since = (m: MixedMember) => fs.readFileSync(logOf(m)).subarray(at.get(m.sid)).toString('utf8');
    const rounds = (m: MixedMember) => since(m).match(m.kind === 'ours' ? /election: new round.*/g : /New election\. My id.*/g) ?? [];
    const designatedIn = (m: MixedMember) => (m.kind === 'ours' ? /election skipped: \w+, designated leader (\d+) / : /Suggested leader: (\d+)/).exec(since(m))?.[1];

    const text = (await su.reconfig({ leaving: String(leader.sid) })).data!.toString();
    expect(text).not.toContain(`server.${leader.sid}=`);
    let next: MixedMember | undefined;
    await waitFor('a voter left leads; the other voter and the old leader follow it', async () => {
      const modes = await Promise.all([v1, v2, leader].map((m) => m.server.mode().catch(() => undefined)));
      next = voters[modes.indexOf('leader')];
      return next !== undefined && modes.filter((x) => x === 'follower').length === 2;
    }, 30_000);
    await waitFor('every member logged the designation', async () => [v1, v2, leader].every((m) => designatedIn(m) !== undefined), 10_000);
    expect([v1, v2, leader].map((m) => ({ sid: m.sid, designated: designatedIn(m), rounds: rounds(m) }))).toEqual(
      [v1, v2, leader].map((m) => ({ sid: m.sid, designated: String(next!.sid), rounds: [] })),
    );
    await expectConfigEverywhere([v1, v2, leader], text);
    // The client connected to the voters before the handover goes on.
    await writer.create(`${base}-after-handover`, Buffer.from('after'));
    for (const m of [v1, v2, leader]) {
      const zk = await connectTo(m);
      await zk.sync('/');
      expect({ sid: m.sid, before: (await zk.getData(`${base}-handover`)).data!.toString(), after: (await zk.getData(`${base}-after-handover`)).data!.toString() }).toEqual({ sid: m.sid, before: 'before', after: 'after' });
    }
  });
});
