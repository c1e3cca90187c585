/**
 * Mixed quorums (issue 8): our servers and Apache ZooKeeper 3.8 servers in
 * one ensemble, every role combination of a 3-voter ensemble plus an
 * observer. Each ensemble is formed with a chosen leader (see
 * test/harness/mixed-cluster.ts), and each test name says which kind leads.
 *
 * In each: a write through any member is read through every member after
 * sync; a session moves between the two kinds (same id and password) and
 * keeps its ephemerals; watches fire on both kinds; the ephemerals of an
 * expired session vanish everywhere; and kill -9 of the leader under write
 * load loses nothing acknowledged, whichever kind takes over, and the killed
 * member rejoins (synced by the other kind) and serves everything.
 */
import { randomBytes } from 'crypto';
import { CreateMode, EventType, ZooKeeper } from '../../src';
import { TcpProxy, waitFor } from '../harness';
import { MixedCluster, MixedMember, MixedMemberSpec, startMixed } from '../harness/mixed-cluster';
import { Clients, EventLog, hex } from '../integration/client-fixtures';
import { AckedWriter, SyncWatch, checkMember, createMany, srvrZxid, txnLogHas } from '../integration/ensemble-checks';

jest.setTimeout(240_000);

const log = (m: string) => process.stdout.write(`${m}\n`);

interface Combination {
  name: string;
  members: MixedMemberSpec[];
}

const A = (observer = false): MixedMemberSpec => ({ kind: 'apache', observer });
const O = (observer = false): MixedMemberSpec => ({ kind: 'ours', observer });

// The highest-sid voter leads (it is launched first with the highest vote).
const COMBINATIONS: Combination[] = [
  { name: 'our leader, two Apache followers, an Apache observer', members: [A(), A(), O(), A(true)] },
  { name: 'an Apache leader, two of our followers, our observer', members: [O(), O(), A(), O(true)] },
  { name: 'our leader, our follower, an Apache follower', members: [A(), O(), O()] },
  { name: 'an Apache leader, an Apache follower, our follower', members: [O(), A(), A()] },
];

function otherKind(c: MixedCluster, m: MixedMember): MixedMember {
  const o = c.members.find((x) => x.kind !== m.kind && x.server.running());
  if (!o) throw new Error('the ensemble has one kind only');
  return o;
}

describe.each(COMBINATIONS)('mixed ensemble: $name', ({ members }) => {
  let cluster: MixedCluster;
  const clients = new Clients();
  const proxies: TcpProxy[] = [];
  let base: string;

  beforeAll(async () => {
    cluster = await startMixed(members);
    base = `/mixed-${randomBytes(3).toString('hex')}`;
    log(`formed: ${await cluster.describe()}`);
  }, 180_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });
  afterEach(async () => {
    await clients.closeAll();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  const connectTo = (m: MixedMember, sessionTimeout = 10_000) => clients.connect(m.server.hostPort, { sessionTimeout, connectTimeout: 20_000 });

  test('a write through any member is read through every member after sync', async () => {
    const first = await connectTo(cluster.members[0]);
    await first.create(base, Buffer.from('base'));
    for (const m of cluster.members) {
      const zk = await connectTo(m);
      await zk.create(`${base}/from-${m.sid}`, Buffer.from(`${m.kind}-${m.sid}`));
    }
    for (const m of cluster.members) {
      const zk = await connectTo(m);
      await zk.sync(base);
      const seen: Record<string, string | undefined> = {};
      for (const c of (await zk.getChildren(base)).sort()) seen[c] = (await zk.getData(`${base}/${c}`)).data?.toString();
      const expected = Object.fromEntries(cluster.members.map((x) => [`from-${x.sid}`, `${x.kind}-${x.sid}`]));
      expect({ reader: m.sid, seen }).toEqual({ reader: m.sid, seen: expected });
    }
  });

  test('a session moves between the kinds with its id and password, and keeps its ephemerals; watches fire on both kinds', async () => {
    const home = cluster.members.find((m) => m.observer === false)!;
    const away = otherKind(cluster, home);
    const owner = await connectTo(home);
    await owner.create(`${base}/eph-home`, Buffer.from('h'), { mode: CreateMode.EPHEMERAL });

    // Watches on one member of each kind, fired by a write through a third.
    await owner.create(`${base}/watched`, Buffer.from('0'));
    const onHome = await connectTo(home);
    const onAway = await connectTo(away);
    const homeEvents = new EventLog();
    const awayEvents = new EventLog();
    await onHome.getData(`${base}/watched`, homeEvents.watcher);
    await onAway.getData(`${base}/watched`, awayEvents.watcher);
    const writerMember = cluster.members.find((m) => m !== home && m !== away) ?? home;
    const writer = await connectTo(writerMember);
    await writer.setData(`${base}/watched`, Buffer.from('1'));
    await homeEvents.nextOf(EventType.NodeDataChanged, `${base}/watched`, 10_000);
    await awayEvents.nextOf(EventType.NodeDataChanged, `${base}/watched`, 10_000);

    // The same session attached through a server of the other kind.
    const twin = new ZooKeeper(away.server.hostPort, { sessionTimeout: 10_000, connectTimeout: 20_000, sessionId: owner.sessionId, sessionPassword: owner.sessionPassword });
    twin.on('error', () => undefined);
    try {
      await twin.connected();
      expect(twin.sessionId).toBe(owner.sessionId);
      await twin.sync(base);
      expect((await twin.getData(`${base}/eph-home`)).data?.toString()).toBe('h');
      await twin.create(`${base}/eph-away`, Buffer.from('a'), { mode: CreateMode.EPHEMERAL });
      for (const m of cluster.members) {
        const zk = await connectTo(m);
        await zk.sync(base);
        const owners = await Promise.all(['eph-home', 'eph-away'].map(async (n) => (await zk.exists(`${base}/${n}`))?.ephemeralOwner));
        expect({ member: m.sid, same: owners.map((o) => o === owner.sessionId) }).toEqual({ member: m.sid, same: [true, true] });
      }
    } finally {
      // Closing the twin ends the session: both ephemerals go, on every member.
      await twin.close();
    }
    for (const m of cluster.members) {
      const zk = await connectTo(m);
      await waitFor(`sid ${m.sid} (${m.kind}) to drop the closed session's ephemerals`, async () => {
        await zk.sync(base);
        return (await zk.exists(`${base}/eph-home`)) === null && (await zk.exists(`${base}/eph-away`)) === null;
      }, 15_000);
    }
  });

  test('the ephemerals of a session that expires (its client silenced) vanish on every member', async () => {
    for (const m of cluster.members) {
      const proxy = await TcpProxy.start(m.server.clientPort);
      proxies.push(proxy);
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: 2000, connectTimeout: 20_000 });
      await zk.create(`${base}/expiring-${m.sid}`, null, { mode: CreateMode.EPHEMERAL });
      // Silent from now on (until afterEach closes it): the session is left to time out on the ensemble.
      proxy.blackhole();
    }
    for (const m of cluster.members) {
      const zk = await connectTo(m);
      await waitFor(`sid ${m.sid} (${m.kind}) to drop the expired sessions' ephemerals`, async () => {
        await zk.sync(base);
        const left = await Promise.all(cluster.members.map((x) => zk.exists(`${base}/expiring-${x.sid}`)));
        return left.every((s) => s === null);
      }, 30_000);
    }
  });

  test('kill -9 of the leader under write load: nothing acknowledged is lost, and it rejoins synced by the other side', async () => {
    const leader = cluster.members.find((m) => m.observer === false && m.sid === Math.max(...cluster.members.filter((x) => !x.observer).map((x) => x.sid)))!;
    expect(await leader.server.mode()).toBe('leader');
    const rest = cluster.members.filter((m) => m !== leader);
    const writer = await clients.connect(rest.map((m) => m.server.hostPort).join(','), { sessionTimeout: 20_000, connectTimeout: 20_000 });
    const dir = `${base}/load`;
    await writer.create(dir, null);

    const writes = new AckedWriter(writer, dir, { loops: 8, max: 20_000, maxMs: 60_000 });
    const acked = writes.acked;
    await waitFor('writes before the kill', async () => acked.length >= 200, 30_000);
    const before = acked.length;
    const t0 = Date.now();
    await leader.server.kill();
    await waitFor('a new leader', async () => (await Promise.all(rest.map((m) => m.server.mode()))).includes('leader'), 60_000);
    const electedMs = Date.now() - t0;
    const ackedAtElection = acked.length;
    await waitFor('writes after the new leader', async () => acked.length >= ackedAtElection + 200, 60_000);
    await writes.stop();
    const newLeader = (await Promise.all(rest.map(async (m) => ((await m.server.mode()) === 'leader' ? m : undefined)))).find((m) => m);

    await leader.server.start();
    await cluster.waitHealthy(90_000);
    for (const m of cluster.members) {
      const zk = await connectTo(m);
      await zk.sync(dir);
      expect({ member: m.sid, lost: writes.lostFrom(await zk.getChildren(dir)) }).toEqual({ member: m.sid, lost: [] });
    }
    log(
      `leader kill: sid ${leader.sid} (${leader.kind}) killed after ${before} acked creates; ` +
      `sid ${newLeader?.sid} (${newLeader?.kind}) led ${electedMs} ms later; ${acked.length} acked in all, none lost on any member; ` +
      `sid ${leader.sid} rejoined as ${await leader.server.mode()}: ${await cluster.describe()}`,
    );
  });
});

/**
 * Synchronization across the kinds, each mode read in the members' logs (see
 * SyncWatch): a leader of one kind syncs a learner of the other with TRUNC
 * (the learner led before and logged a txn nobody else got), then DIFF (a
 * few txns missed), SNAP (more than the 500-txn committed-log window
 * missed), and an empty DIFF after a clean restart. Syncing from the txn
 * log on disk is off on both kinds (snapshotSizeFactor=-1): the next
 * describe has it on.
 *
 * The old leader is of the learner's kind; the two others elect the new
 * leader, of the other kind, among themselves.
 */
describe.each([
  { name: 'our leader syncs an Apache learner', members: [O(), O(), A()] },
  { name: 'an Apache leader syncs our learner', members: [A(), A(), O()] },
])('mixed sync: $name', ({ members }) => {
  let cluster: MixedCluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startMixed(members, { maxSessionTimeout: 60_000, systemProperties: { 'zookeeper.snapshotSizeFactor': '-1' } });
  }, 180_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('TRUNC, then DIFF, SNAP and an empty DIFF, each sent by one kind and taken by the other', async () => {
    const oldLeader = cluster.member(3);
    const olds = [cluster.member(1), cluster.member(2)];
    expect(await oldLeader.server.mode()).toBe('leader');
    const base = `/mixed-sync-${randomBytes(3).toString('hex')}`;
    const ghost = `ghost-${randomBytes(4).toString('hex')}`;
    const zk = await clients.connect(oldLeader.server.hostPort, { connectTimeout: 60_000, sessionTimeout: 60_000 });
    await zk.create(base, Buffer.from('kept'));
    const committed = (await srvrZxid(oldLeader.server))!;
    // TRUNC: the followers stop processing, the leader logs a proposal they never read, all three die.
    for (const f of olds) process.kill(f.server.pid()!, 'SIGSTOP');
    const ghostWrite = zk.create(`${base}/${ghost}`, Buffer.from('never committed')).then(() => 'acknowledged', (e: Error) => `failed: ${e.message}`);
    try {
      await waitFor('the old leader to log the uncommitted create', async () => txnLogHas(oldLeader.server.dataDir, ghost), 5000, 20);
    } finally {
      await Promise.all(olds.map((f) => f.server.kill()));
    }
    await oldLeader.server.kill();
    expect(await ghostWrite).toMatch(/^failed/);
    await Promise.all(olds.map((f) => f.server.start({ waitFor: 'process' })));
    const leader = await waitFor('a new leader of the other kind', async () => {
      const modes = await Promise.all(olds.map((f) => f.server.mode()));
      const i = modes.indexOf('leader');
      return i >= 0 && modes.includes('follower') ? olds[i] : undefined;
    }, 60_000, 150);
    expect(leader.kind).not.toBe(oldLeader.kind);
    const victim = oldLeader;
    const watch = new SyncWatch(leader.kind, leader.server, victim.kind, victim.server);
    await victim.server.start();
    await cluster.waitHealthy(60_000);
    const truncLines = watch.lines();
    expect({ truncLines }).toEqual({ truncLines: [`syncing learner ${victim.sid} with TRUNC ${hex(committed)}`] });
    const onVictim = await clients.connect(victim.server.hostPort, { connectTimeout: 30_000 });
    await onVictim.sync(base);
    expect({ base: (await onVictim.getData(base)).data?.toString(), kids: await onVictim.getChildren(base) }).toEqual({ base: 'kept', kids: [] });

    // Down, `from`..`to` written meanwhile, back: the one sync line the rejoin produced, and the zxid it should name.
    const writer = await clients.connect(leader.server.hostPort);
    const rejoinAfter = async (from: number, to: number): Promise<{ lines: string[]; zxid: bigint }> => {
      await victim.server.stop();
      await createMany(writer, base, from, to);
      const zxid = (await srvrZxid(leader.server))!;
      const w = new SyncWatch(leader.kind, leader.server, victim.kind, victim.server);
      await victim.server.start();
      await cluster.waitHealthy(60_000);
      return { lines: w.lines(), zxid };
    };
    // DIFF: a few writes while it is down.
    const diff = await rejoinAfter(0, 5);
    expect({ diff: diff.lines }).toEqual({ diff: [`syncing learner ${victim.sid} with DIFF ${hex(diff.zxid)}`] });
    expect(await checkMember(clients, victim.server, base, 5)).toEqual({ server: victim.sid, children: 5, bad: [] });
    // SNAP: more than the committed-log window while it is down.
    const snap = await rejoinAfter(5, 705);
    expect({ snap: snap.lines }).toEqual({ snap: [`syncing learner ${victim.sid} with SNAP ${hex(snap.zxid)}`] });
    expect(await checkMember(clients, victim.server, base, 705)).toEqual({ server: victim.sid, children: 705, bad: [] });
    // A clean restart needs only an empty DIFF: the snapshot it got is on its disk, in its own kind's hands.
    const again = await rejoinAfter(705, 705);
    expect({ again: again.lines }).toEqual({ again: [`syncing learner ${victim.sid} with DIFF ${hex(again.zxid)}`] });
    const [diffLines, snapLines, againLines] = [diff.lines, snap.lines, again.lines];
    log(`mixed sync, ${leader.kind} leader sid ${leader.sid} -> ${victim.kind} learner sid ${victim.sid}: ${[truncLines[0], diffLines[0], snapLines[0], againLines[0]].join('; ')}`);
  });
});

/**
 * DIFF from the txn log on disk across the kinds (snapshotSizeFactor at its
 * default 0.33): a follower of one kind misses more txns than the leader's
 * 500-txn committed log while down; the leader of the other kind finds its
 * zxid in its own txn log (one file: the size limit does not apply) and
 * sends DIFF, the older txns read from disk, then the committed log. The
 * follower ends with the leader's data.
 */
describe.each([
  { name: 'our leader syncs an Apache follower', members: [A(), A(), O()] },
  { name: 'an Apache leader syncs our follower', members: [O(), O(), A()] },
])('mixed sync from the txn log: $name', ({ members }) => {
  let cluster: MixedCluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startMixed(members);
  }, 180_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('a follower of the other kind that missed 700 txns (> the 500-txn committed log) gets a DIFF and the leader\'s data', async () => {
    const leader = cluster.member(3);
    expect(await leader.server.mode()).toBe('leader');
    const victim = cluster.members.find((m) => m.kind !== leader.kind)!;
    const base = `/mixed-logsync-${randomBytes(3).toString('hex')}`;
    const zk = await clients.connect(leader.server.hostPort);
    await zk.create(base, null);
    await waitFor('the follower to have the leader\'s zxid', async () => (await srvrZxid(victim.server)) === (await srvrZxid(leader.server)), 10_000);
    await victim.server.stop();
    await createMany(zk, base, 0, 700);
    const zxid = (await srvrZxid(leader.server))!;
    const watch = new SyncWatch(leader.kind, leader.server, victim.kind, victim.server);
    await victim.server.start();
    await cluster.waitHealthy(60_000);
    const lines = watch.lines();
    expect({ lines }).toEqual({ lines: [`syncing learner ${victim.sid} with DIFF ${hex(zxid)}`] });
    expect(await checkMember(clients, victim.server, base, 700)).toEqual({ server: victim.sid, children: 700, bad: [] });
    await waitFor('the follower to reach the leader\'s zxid', async () => (await srvrZxid(victim.server)) === (await srvrZxid(leader.server)), 10_000);
    log(`mixed sync from the txn log, ${leader.kind} leader sid ${leader.sid} -> ${victim.kind} follower sid ${victim.sid}: "${lines[0]}" after 700 missed`);
  });
});
