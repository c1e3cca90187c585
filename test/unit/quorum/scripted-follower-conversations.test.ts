/**
 * A REAL follower of ours (LearnerHost: ZabLearner, the server's tree,
 * sessions and FileTxnStore on a temp dataDir) against a scripted leader
 * (scripted-leader.ts) that plays Apache's LearnerHandler packet by packet.
 * No election: the test builds the LearnerHost as QuorumPeer.follow() does
 * and points it at the script's port.
 *
 * Besides what the follower answers, these tests check what it left on
 * disk: at the moment its ACK of NEWLEADER reaches the leader (the synced
 * txns in the log, currentEpoch = the new epoch: ZOOKEEPER-3911/4643/4646/
 * 4785), and after a restart on the same dataDir (a TRUNC really removed
 * the cut txns; what it acked before its leader died is all there).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FileTxnStore } from '../../../src/server/persist/file-store';
import type { TxnEntry } from '../../../src/server/persist/types';
import { RecentLog } from '../../../src/server/quorum/recent-log';
import { LearnerHost } from '../../../src/server/quorum/learner-host';
import { QuorumPacketData, QuorumPacketType as T, decodeAckEpochData, decodeLearnerInfo } from '../../../src/server/quorum/quorum-wire';
import { makeZxid } from '../../../src/server/zxid';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { waitFor } from '../../harness/four-letter-words';
import { freePorts } from '../../harness/ports';
import { LeaderLink, ScriptedLeader, SeedOptions, SeededServer, createTxn, createTxns, hex, readEpochSync, readLogSync, startSeededServer, userPaths } from './scripted-leader';

jest.setTimeout(60_000);

const TICK = 200;
const INIT = 10;
const SYNC = 5;
const MY_SID = 2n;

const logs: string[] = [];
const log = (m: string): void => void logs.push(`${Date.now() % 100000} ${m}`);

interface FollowerFixture {
  seeded: SeededServer;
  host: LearnerHost;
  leader: ScriptedLeader;
  link: LeaderLink;
  finished: Promise<string>;
  /** Epochs onServing reported (the follower served). */
  served: bigint[];
}

let root: string;
let fixtures: FollowerFixture[] = [];
let extraServers: ZooKeeperServer[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-scripted-follower-'));
  logs.length = 0;
});

afterEach(async () => {
  if (process.env.ZK_SCRIPTED_LOG === '1') console.log(logs.join('\n'));
  for (const f of fixtures.splice(0)) {
    f.host.stop('test over');
    await f.finished;
    await f.host.settled();
    await f.leader.close();
    await f.seeded.server.close().catch(() => undefined);
  }
  for (const s of extraServers.splice(0)) await s.close().catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
});

function explained<R>(fn: () => Promise<R>): Promise<R> {
  return fn().catch((e: Error) => {
    e.message += `\n--- log ---\n${logs.slice(-80).join('\n')}`;
    throw e;
  });
}

/** Our follower (sid 2) on a dataDir seeded with `seed`, connected to a scripted leader (sid 1). */
async function startFollower(seed: SeedOptions = {}, beforeRun?: (s: SeededServer) => void): Promise<FollowerFixture> {
  const [quorumPort, clientPort] = await freePorts(2);
  const leader = await ScriptedLeader.listen(quorumPort, log);
  const seeded = await startSeededServer(path.join(root, 'follower'), { ...seed, clientPort, tickTime: TICK, serverId: Number(MY_SID), log: (m) => log(`[server] ${m}`) });
  beforeRun?.(seeded);
  const served: bigint[] = [];
  const host = new LearnerHost({
    myId: MY_SID,
    leader: { sid: 1n, host: '127.0.0.1', quorumPort, electionPort: quorumPort + 1, type: 'participant' },
    observer: false,
    server: seeded.server,
    store: seeded.store,
    tickTime: TICK,
    initLimit: INIT,
    syncLimit: SYNC,
    acceptedEpoch: seeded.acceptedEpoch,
    currentEpoch: seeded.currentEpoch,
    lastLoggedZxid: seeded.lastZxid,
    recent: new RecentLog(),
    onDurable: () => undefined,
    onServing: (epoch) => void served.push(epoch),
    log: (m) => log(`[follower] ${m}`),
  });
  const finished = host.run();
  const link = await leader.accept();
  const f: FollowerFixture = { seeded, host, leader, link, finished, served };
  fixtures.push(f);
  return f;
}

/**
 * FOLLOWERINFO (checked) -> LEADERINFO(newEpoch) -> ACKEPOCH; returns what ACKEPOCH said and the
 * acceptedEpoch file as it was when ACKEPOCH arrived.
 */
async function handshake(f: FollowerFixture, newEpoch: bigint): Promise<{ lastZxid: bigint; currentEpoch: bigint; acceptedEpochOnDisk: bigint | null }> {
  const info = await f.link.expect(T.FOLLOWERINFO);
  expect(info.zxid).toBe(makeZxid(f.seeded.acceptedEpoch, 0n));
  expect(decodeLearnerInfo(info.data)).toEqual({ sid: MY_SID, protocolVersion: 0x10000, configVersion: 0n });
  let acceptedEpochOnDisk: bigint | null = null;
  f.link.onPacket = (p) => {
    if (p.type === T.ACKEPOCH) acceptedEpochOnDisk = readEpochSync(f.seeded.dataDir, 'acceptedEpoch');
  };
  f.link.leaderInfo(newEpoch);
  const ack = await f.link.expect(T.ACKEPOCH);
  f.link.onPacket = undefined;
  return { lastZxid: ack.zxid, currentEpoch: decodeAckEpochData(ack.data), acceptedEpochOnDisk };
}

interface DiskAtAck {
  ack: QuorumPacketData;
  logZxids: string[];
  currentEpoch: bigint | null;
  snapshots: string[];
}

/**
 * Sends NEWLEADER; the returned function awaits the ACK and gives it with the disk as it was the
 * instant the ACK arrived (read synchronously in the socket's data handler).
 */
function newLeader(f: FollowerFixture, newEpoch: bigint): (timeoutMs?: number) => Promise<DiskAtAck> {
  let disk: Omit<DiskAtAck, 'ack'> | undefined;
  f.link.onPacket = (p) => {
    if (p.type === T.ACK && disk === undefined) disk = diskNow(f.seeded.dataDir);
  };
  f.link.newLeader(newEpoch);
  return async (timeoutMs = 10_000) => {
    const ack = await f.link.expect(T.ACK, timeoutMs);
    f.link.onPacket = undefined;
    expect(ack.zxid).toBe(makeZxid(newEpoch, 0n));
    return { ack, ...disk! };
  };
}

const newLeaderAndAck = (f: FollowerFixture, newEpoch: bigint): Promise<DiskAtAck> => newLeader(f, newEpoch)();

function diskNow(dataDir: string): Omit<DiskAtAck, 'ack'> {
  return {
    logZxids: readLogSync(dataDir).map((t) => hex(t.header.zxid)),
    currentEpoch: readEpochSync(dataDir, 'currentEpoch'),
    snapshots: fs.readdirSync(path.join(dataDir, 'version-2')).filter((n) => n.startsWith('snapshot.')).sort(),
  };
}

/** UPTODATE -> the follower's ACK of it; then it serves, and the script keeps it alive with PINGs. */
async function upToDate(f: FollowerFixture, newEpoch: bigint): Promise<void> {
  f.link.upToDate();
  expect(hex((await f.link.expect(T.ACK)).zxid)).toBe(hex(makeZxid(newEpoch, 0n)));
  await waitFor('the follower to serve', async () => f.served.length > 0, 5_000, 5);
  expect(f.served).toEqual([newEpoch]);
  expect(f.seeded.server.role).toBe('follower');
  f.link.startPinging(TICK / 2);
}

/** Ends the follower's term, closes its server, and starts a fresh one on the same dataDir (a restart). */
async function restart(f: FollowerFixture): Promise<ZooKeeperServer> {
  f.host.stop('restart');
  await f.finished;
  await f.host.settled();
  await f.seeded.server.close();
  const s = await ZooKeeperServer.start({ dataDir: f.seeded.dataDir, clientPort: 0, ensembleMember: true });
  extraServers.push(s);
  return s;
}

const zxids = (txns: readonly TxnEntry[]): string[] => txns.map((t) => hex(t.header.zxid));

/** Holds the store's next append and currentEpoch write until the test releases them (to see what waits on them). */
function holdStore(store: FileTxnStore): {
  appendCalled: Promise<TxnEntry[]>;
  releaseAppend: () => void;
  epochCalled: Promise<bigint>;
  releaseEpoch: () => void;
  order: string[];
} {
  const order: string[] = [];
  let releaseAppend!: () => void;
  let releaseEpoch!: () => void;
  let appendCalled!: (e: TxnEntry[]) => void;
  let epochCalled!: (e: bigint) => void;
  const appendGate = new Promise<void>((r) => (releaseAppend = r));
  const epochGate = new Promise<void>((r) => (releaseEpoch = r));
  const out = {
    appendCalled: new Promise<TxnEntry[]>((r) => (appendCalled = r)),
    epochCalled: new Promise<bigint>((r) => (epochCalled = r)),
    releaseAppend: () => releaseAppend(),
    releaseEpoch: () => releaseEpoch(),
    order,
  };
  const append = store.append.bind(store);
  const setCurrentEpoch = store.setCurrentEpoch.bind(store);
  store.append = async (entries: TxnEntry[]) => {
    order.push(`append ${zxids(entries).join(',')}`);
    appendCalled(entries);
    await appendGate;
    await append(entries);
    order.push('append durable');
  };
  store.setCurrentEpoch = async (epoch: bigint) => {
    order.push(`currentEpoch ${epoch}`);
    epochCalled(epoch);
    await epochGate;
    await setCurrentEpoch(epoch);
    order.push('currentEpoch durable');
  };
  return out;
}

// ---------------------------------------------------------------------------------------------

test('DIFF with pairs: at NEWLEADER the txns are logged, THEN currentEpoch written, THEN the ACK; then broadcast', () =>
  explained(async () => {
    let held!: ReturnType<typeof holdStore>;
    const f = await startFollower({ txns: createTxns(1n, 1, 2), acceptedEpoch: 1n, currentEpoch: 1n }, (s) => (held = holdStore(s.store)));
    const ae = await handshake(f, 2n);
    expect(ae).toEqual({ lastZxid: makeZxid(1n, 2n), currentEpoch: 1n, acceptedEpochOnDisk: 2n }); // acceptedEpoch durable before ACKEPOCH
    const missing = createTxns(1n, 3, 5);
    f.link.diff(makeZxid(1n, 5n));
    f.link.pairs(missing);

    const acked = newLeader(f, 2n);
    // 1. The synced txns go to the log first; while that append is not durable, no ACK may leave.
    //    (An absence is only observable over a window: 2 ticks.)
    expect(zxids(await held.appendCalled)).toEqual(['0x100000003', '0x100000004', '0x100000005']);
    await f.link.expectQuiet(2 * TICK);
    held.releaseAppend();
    // 2. Then currentEpoch; while it is not written, still no ACK (ZOOKEEPER-4643: not the other way round).
    expect(await held.epochCalled).toBe(2n);
    await f.link.expectQuiet(2 * TICK);
    held.releaseEpoch();
    // 3. The ACK, and at the moment it arrived the disk had both.
    const disk = await acked();
    expect(held.order).toEqual(['append 0x100000003,0x100000004,0x100000005', 'append durable', 'currentEpoch 2', 'currentEpoch durable']);
    expect(disk.logZxids).toEqual(['0x100000001', '0x100000002', '0x100000003', '0x100000004', '0x100000005']);
    expect(disk.currentEpoch).toBe(2n);
    // Nothing served before UPTODATE.
    expect(f.served).toEqual([]);
    expect(f.seeded.server.role).toBe('looking');

    await upToDate(f, 2n);
    expect(userPaths(f.seeded.server)).toEqual(['/n1-1', '/n1-2', '/n1-3', '/n1-4', '/n1-5']);

    // Broadcast: a PROPOSAL is logged before its ACK, applied on COMMIT.
    const live = createTxn(makeZxid(2n, 1n), '/live');
    let logged: string[] = [];
    f.link.onPacket = (p) => {
      if (p.type === T.ACK) logged = readLogSync(f.seeded.dataDir).map((t) => hex(t.header.zxid));
    };
    f.link.proposal(live);
    expect(hex((await f.link.expect(T.ACK)).zxid)).toBe('0x200000001');
    expect(logged).toContain('0x200000001');
    expect(f.seeded.server.tree.getNode('/live')).toBeUndefined(); // proposed, not committed
    f.link.commit(live.header.zxid);
    await waitFor('the follower to apply the COMMIT', async () => f.seeded.server.tree.getNode('/live') !== undefined, 5_000, 5);
    expect(f.seeded.server.tree.lastProcessedZxid).toBe(makeZxid(2n, 1n));
  }));

test('TRUNC: the follower cuts its log back to the leader\'s zxid, for good (a restart does not bring the txns back)', () =>
  explained(async () => {
    const f = await startFollower({ txns: createTxns(1n, 1, 5), acceptedEpoch: 1n, currentEpoch: 1n });
    const ae = await handshake(f, 2n);
    expect(ae.lastZxid).toBe(makeZxid(1n, 5n));
    f.link.trunc(makeZxid(1n, 3n));
    const disk = await newLeaderAndAck(f, 2n);
    expect(disk.logZxids).toEqual(['0x100000001', '0x100000002', '0x100000003']);
    expect(disk.currentEpoch).toBe(2n);
    await upToDate(f, 2n);
    expect(userPaths(f.seeded.server)).toEqual(['/n1-1', '/n1-2', '/n1-3']);
    // The log goes on after the cut.
    const next = createTxn(makeZxid(2n, 1n), '/after-trunc');
    f.link.proposal(next);
    expect(hex((await f.link.expect(T.ACK)).zxid)).toBe('0x200000001');
    f.link.commit(next.header.zxid);
    await waitFor('the follower to apply the COMMIT', async () => f.seeded.server.tree.getNode('/after-trunc') !== undefined, 5_000, 5);

    const again = await restart(f);
    expect(userPaths(again)).toEqual(['/after-trunc', '/n1-1', '/n1-2', '/n1-3']);
    expect(again.recoveredState.lastZxid).toBe(makeZxid(2n, 1n));
    expect(readLogSync(f.seeded.dataDir).map((t) => hex(t.header.zxid))).toEqual(['0x100000001', '0x100000002', '0x100000003', '0x200000001']);
  }));

test('SNAP: the follower\'s tree becomes the snapshot\'s nodes (plus the pairs after it), snapshotted before its ACK', () =>
  explained(async () => {
    // The leader's tree: epoch 1's /s1-1..3 and epoch 2's /s2-1..3, captured at 0x200000003.
    const source = await startSeededServer(path.join(root, 'source'), { txns: [...createTxns(1n, 1, 3, 's'), ...createTxns(2n, 1, 3, 's')], acceptedEpoch: 2n, currentEpoch: 2n });
    extraServers.push(source.server);
    const snap = source.server.captureForSync();
    expect(snap.zxid).toBe(makeZxid(2n, 3n));
    const f = await startFollower({ txns: createTxns(1n, 1, 2), acceptedEpoch: 1n, currentEpoch: 1n });
    await handshake(f, 3n);
    await f.link.snap(snap.zxid, snap.contents);
    const after = createTxn(makeZxid(2n, 4n), '/s2-4');
    f.link.pairs([after]);
    const disk = await newLeaderAndAck(f, 3n);
    // The snapshot (holding the pair applied after it) is on disk, and currentEpoch, before the ACK.
    expect(disk.snapshots).toContain('snapshot.200000004');
    expect(disk.currentEpoch).toBe(3n);
    await upToDate(f, 3n);
    const expected = [...userPaths(source.server), '/s2-4'].sort();
    expect(userPaths(f.seeded.server)).toEqual(expected); // the old /n1-1, /n1-2 are gone
    for (const p of userPaths(source.server)) {
      expect(f.seeded.server.tree.getData(p).data).toEqual(source.server.tree.getData(p).data);
      expect(f.seeded.server.tree.getData(p).stat.mzxid).toBe(source.server.tree.getData(p).stat.mzxid);
    }
    const again = await restart(f);
    expect(userPaths(again)).toEqual(expected);
    expect(again.recoveredState.lastZxid).toBe(makeZxid(2n, 4n));
  }));

test('the leader dies between NEWLEADER and UPTODATE: the term ends, nothing was served, what was acked is durable', () =>
  explained(async () => {
    const f = await startFollower();
    expect(await handshake(f, 1n)).toEqual({ lastZxid: 0n, currentEpoch: 0n, acceptedEpochOnDisk: 1n });
    f.link.diff(makeZxid(1n, 3n));
    f.link.pairs(createTxns(1n, 1, 3));
    const disk = await newLeaderAndAck(f, 1n);
    expect(disk.logZxids).toEqual(['0x100000001', '0x100000002', '0x100000003']);
    await f.link.close();
    const reason = await f.finished;
    expect(reason).toMatch(/connection to leader closed/);
    await f.host.settled();
    expect(f.served).toEqual([]);
    expect(f.seeded.server.role).toBe('looking');

    const again = await restart(f);
    expect(again.recoveredState.lastZxid).toBe(makeZxid(1n, 3n));
    expect(userPaths(again)).toEqual(['/n1-1', '/n1-2', '/n1-3']);
    expect(readEpochSync(f.seeded.dataDir, 'currentEpoch')).toBe(1n);
    expect(readEpochSync(f.seeded.dataDir, 'acceptedEpoch')).toBe(1n);
    expect(await (again.store as FileTxnStore).loadEpochs(again.recoveredState.lastZxid)).toEqual({ acceptedEpoch: 1n, currentEpoch: 1n });
  }));

test('a first sync packet that is not DIFF, TRUNC or SNAP ends the term (nothing logged, nothing served)', () =>
  explained(async () => {
    const f = await startFollower();
    await handshake(f, 1n);
    f.link.proposal(createTxn(makeZxid(1n, 1n), '/p'));
    expect(await f.finished).toMatch(/first sync packet was proposal/);
    await f.link.waitClosed();
    await f.host.settled();
    expect(f.served).toEqual([]);
    expect(readLogSync(f.seeded.dataDir)).toEqual([]);
    expect(readEpochSync(f.seeded.dataDir, 'currentEpoch')).toBe(0n);
  }));

test('a TRUNC past the follower\'s last zxid ends the term without touching its log', () =>
  explained(async () => {
    const f = await startFollower({ txns: createTxns(1n, 1, 2), acceptedEpoch: 1n, currentEpoch: 1n });
    await handshake(f, 2n);
    f.link.trunc(makeZxid(1n, 4n));
    expect(await f.finished).toMatch(/TRUNC to 0x100000004 is past our last zxid 0x100000002/);
    await f.host.settled();
    expect(readLogSync(f.seeded.dataDir).map((t) => hex(t.header.zxid))).toEqual(['0x100000001', '0x100000002']);
    expect(readEpochSync(f.seeded.dataDir, 'currentEpoch')).toBe(1n);
  }));
