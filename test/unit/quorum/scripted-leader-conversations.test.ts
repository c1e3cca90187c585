/**
 * A REAL leader of ours (LeaderHost: quorum port, ZabLeader, the server's
 * commit path, on a FileTxnStore) against scripted learners that play their
 * part packet by packet with the codec proven against a live Apache leader
 * (apache-learner.ts). No election: the test builds the LeaderHost as
 * QuorumPeer.lead() does, from a server whose dataDir the test seeded with
 * a history, and plays sids 2.. of a 3- (or 5-) voter ensemble whose sid 1
 * is our leader. With 3 voters, one learner's acks make the quorum.
 *
 * Each test asserts the exact packet sequence the leader sends (rendered as
 * "DIFF 0x100000005", "PROPOSAL 0x100000003", ...), so a failure shows the
 * whole conversation.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src';
import { JuteReader } from '../../../src/jute';
import { CreateTxn, OpCode } from '../../../src/proto';
import type { TxnEntry } from '../../../src/server/persist/types';
import { RecentLog } from '../../../src/server/quorum/recent-log';
import { LeaderHost } from '../../../src/server/quorum/leader-host';
import type { ZabLeader } from '../../../src/server/quorum/zab-leader';
import { MajorityQuorum, type QuorumServer } from '../../../src/server/quorum/quorum-verifier';
import {
  QuorumPacketData,
  QuorumPacketType as T,
  ZAB_PROTOCOL_VERSION,
  decodeNewLeaderData,
  decodeProposalData,
  encodeAckEpochData,
  encodeLearnerInfo,
  encodeQuorumPacket,
  quorumPacket,
} from '../../../src/server/quorum/quorum-wire';
import { epochOf, makeZxid } from '../../../src/server/zxid';
import { waitFor } from '../../harness/four-letter-words';
import { freePorts } from '../../harness/ports';
import { ScriptedLearner } from './apache-learner';
import { SeedOptions, SeededServer, createTxns, hex, startSeededServer, userPaths } from './scripted-leader';

jest.setTimeout(60_000);

/** 200 ms ticks: initLimit (10 ticks = 2 s) bounds each phase; generous for a loaded 2-core machine. */
const TICK = 200;
const INIT = 10;
const SYNC = 5;

const logs: string[] = [];
const log = (m: string): void => void logs.push(`${Date.now() % 100000} ${m}`);

interface LeaderFixture {
  seeded: SeededServer;
  host: LeaderHost;
  verifier: MajorityQuorum;
  quorumPort: number;
  clientPort: number;
  /** Resolves with the reason the term ended. */
  finished: Promise<string>;
  /** Epochs onServing reported (the leader served). */
  served: bigint[];
  /** Resolves once the leader's own log holds `zxid` durably (its own ack of that proposal). */
  durable: (zxid: bigint) => Promise<void>;
}

let root: string;
let fixtures: LeaderFixture[] = [];
let learners: ScriptedLearner[] = [];
let clients: ZooKeeper[] = [];
let sockets: net.Socket[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-scripted-leader-'));
  logs.length = 0;
});

afterEach(async () => {
  // ZK_SCRIPTED_LOG=1 prints each test's conversation (debugging aid).
  if (process.env.ZK_SCRIPTED_LOG === '1') console.log(logs.join('\n'));
  // The term first: its end drops the clients, whose close would otherwise wait for a closeSession
  // that no scripted learner acks.
  for (const f of fixtures) {
    f.host.stop('test over');
    await f.finished;
    await f.host.settled();
    f.seeded.server.stopServing('test over');
  }
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const l of learners.splice(0)) await l.close();
  for (const s of sockets.splice(0)) s.destroy();
  for (const f of fixtures.splice(0)) await f.seeded.server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function recentLogOf(txns: readonly TxnEntry[]): RecentLog {
  const r = new RecentLog();
  r.reset(txns);
  return r;
}

/** Our leader as sid 1 of `voters` voters, on a dataDir seeded with `seed`; its term is running. */
async function startLeader(voters: 3 | 5, seed: SeedOptions = {}): Promise<LeaderFixture> {
  const ports = await freePorts(voters + 1);
  const clientPort = ports[voters];
  const servers: QuorumServer[] = [];
  for (let i = 0; i < voters; i++) servers.push({ sid: BigInt(i + 1), host: '127.0.0.1', quorumPort: ports[i], electionPort: ports[i] + 1, type: 'participant' });
  const verifier = new MajorityQuorum(servers);
  const seeded = await startSeededServer(path.join(root, 'leader'), { ...seed, clientPort, tickTime: TICK, log: (m) => log(`[server] ${m}`) });
  seeded.server.setQuorumConfig(verifier.toString(), verifier.version);
  const served: bigint[] = [];
  const waiters: { zxid: bigint; resolve: () => void }[] = [];
  let lastDurable = seeded.lastZxid;
  const host = new LeaderHost({
    myId: 1n,
    verifier,
    server: seeded.server,
    store: seeded.store,
    tickTime: TICK,
    initLimit: INIT,
    syncLimit: SYNC,
    acceptedEpoch: seeded.acceptedEpoch,
    currentEpoch: seeded.currentEpoch,
    lastLoggedZxid: seeded.lastZxid,
    recent: recentLogOf(seeded.server.recoveredState.txns),
    host: '127.0.0.1',
    port: ports[0],
    onDurable: (d) => {
      if (d.lastLoggedZxid === undefined) return;
      lastDurable = d.lastLoggedZxid;
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].zxid <= lastDurable) waiters.splice(i, 1)[0].resolve();
    },
    onServing: (epoch) => void served.push(epoch),
    log: (m) => log(`[leader] ${m}`),
  });
  const finished = host.run();
  const f: LeaderFixture = {
    seeded,
    host,
    verifier,
    quorumPort: ports[0],
    clientPort,
    finished,
    served,
    durable: (zxid) => (zxid <= lastDurable ? Promise.resolve() : new Promise((resolve) => waiters.push({ zxid, resolve }))),
  };
  fixtures.push(f);
  // run() listens before it returns its promise's first await settles; connecting may still race it, so retry briefly.
  await waitFor('the leader to listen on its quorum port', () => canConnect(ports[0]), 5_000, 20);
  return f;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function learner(f: LeaderFixture): Promise<ScriptedLearner> {
  const l = await ScriptedLearner.connect('127.0.0.1', f.quorumPort, log);
  learners.push(l);
  return l;
}

/** FOLLOWERINFO -> LEADERINFO -> ACKEPOCH as Learner.registerWithLeader; returns the epoch LEADERINFO announced. */
async function register(l: ScriptedLearner, sid: bigint, acceptedEpoch: bigint, ack: { lastZxid: bigint; currentEpoch: bigint }): Promise<bigint> {
  l.send(quorumPacket(T.FOLLOWERINFO, makeZxid(acceptedEpoch, 0n), encodeLearnerInfo({ sid, configVersion: 0n })));
  const info = await l.expect(T.LEADERINFO);
  expect(info.data?.readInt32BE(0)).toBe(ZAB_PROTOCOL_VERSION);
  const newEpoch = epochOf(info.zxid);
  l.send(quorumPacket(T.ACKEPOCH, ack.lastZxid, encodeAckEpochData(newEpoch > acceptedEpoch ? ack.currentEpoch : -1n)));
  return newEpoch;
}

interface SyncTranscript {
  /** "DIFF 0x..", "PROPOSAL 0x..", "COMMIT 0x..", "SNAPSHOT", "NEWLEADER 0x..", in order. */
  packets: string[];
  proposals: TxnEntry[];
  snapshotPaths?: string[];
  newLeaderConfig: string | null;
}

const describe_ = (p: QuorumPacketData): string => `${T[p.type] ?? p.type} ${hex(p.zxid)}`;

/** Everything the leader sends from the first sync packet to NEWLEADER (included). */
async function syncTranscript(l: ScriptedLearner): Promise<SyncTranscript> {
  const out: SyncTranscript = { packets: [], proposals: [], newLeaderConfig: null };
  for (;;) {
    const ev = await l.next();
    if (ev.kind === 'snapshot') {
      out.packets.push('SNAPSHOT');
      out.snapshotPaths = [...ev.snapshot.nodes].map((n) => n.path).filter((p) => p !== '' && !p.startsWith('/zookeeper')).sort();
      continue;
    }
    out.packets.push(describe_(ev.packet));
    if (ev.packet.type === T.PROPOSAL) out.proposals.push(decodeProposalData(ev.packet.data));
    if (ev.packet.type === T.NEWLEADER) {
      out.newLeaderConfig = decodeNewLeaderData(ev.packet.data);
      return out;
    }
  }
}

/** ACK of NEWLEADER -> UPTODATE -> ACK of UPTODATE. */
async function finishSync(l: ScriptedLearner, newEpoch: bigint): Promise<void> {
  l.send(quorumPacket(T.ACK, makeZxid(newEpoch, 0n)));
  const up = await l.expect(T.UPTODATE);
  expect(up.zxid).toBe(-1n);
  l.send(quorumPacket(T.ACK, makeZxid(newEpoch, 0n)));
}

/** The leader's PROPOSAL for the next txn, our ACK, its COMMIT: returns the txn. */
async function ackNextProposal(l: ScriptedLearner): Promise<TxnEntry> {
  const p = await l.expect(T.PROPOSAL);
  const txn = decodeProposalData(p.data);
  l.send(quorumPacket(T.ACK, p.zxid));
  expect(describe_(await l.expect(T.COMMIT))).toBe(`COMMIT ${hex(p.zxid)}`);
  return txn;
}

/** A client of the leader's port whose session the scripted follower `l` acks into existence. */
async function clientVia(f: LeaderFixture, l: ScriptedLearner): Promise<ZooKeeper> {
  const zk = new ZooKeeper(`127.0.0.1:${f.clientPort}`, { sessionTimeout: 6000 });
  zk.on('error', () => undefined);
  clients.push(zk);
  log('test: client connecting');
  const session = await ackNextProposal(l);
  expect(session.header.type).toBe(OpCode.createSession);
  log('test: session committed');
  await zk.connected();
  log('test: client connected');
  return zk;
}

/** A write through `zk`, committed by `l`'s ACK. */
async function writeVia(zk: ZooKeeper, l: ScriptedLearner, p: string): Promise<TxnEntry> {
  const created = zk.create(p, Buffer.from('v'));
  const txn = await ackNextProposal(l);
  expect(await created).toBe(p);
  return txn;
}

/** `p`'s value, or `fallback` if it has not settled within `ms` (the timer is cleared either way). */
async function within<R>(p: Promise<R>, ms: number, fallback: R): Promise<R> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<R>((r) => (t = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

const createPath = (t: TxnEntry): string => CreateTxn.decode(new JuteReader(t.body)).path;

function explained<R>(fn: () => Promise<R>): Promise<R> {
  return fn().catch((e: Error) => {
    e.message += `\n--- log ---\n${logs.slice(-80).join('\n')}`;
    throw e;
  });
}

// ---------------------------------------------------------------------------------------------

test('an empty learner gets an empty DIFF; a client write becomes a PROPOSAL, commits only on the ACK, then COMMIT', () =>
  explained(async () => {
    const f = await startLeader(3);
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 0n, { lastZxid: 0n, currentEpoch: 0n });
    expect(newEpoch).toBe(1n);
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual(['DIFF 0x0', 'NEWLEADER 0x100000000']);
    expect(sync.newLeaderConfig).toBe(f.verifier.toString());
    await finishSync(l, newEpoch);
    expect(f.served).toEqual([1n]);
    expect(f.seeded.server.role).toBe('leader');

    const zk = await clientVia(f, l);
    let answered = false;
    const created = zk.create('/x', Buffer.from('v')).then((p) => {
      answered = true;
      return p;
    });
    const prop = await l.expect(T.PROPOSAL);
    const txn = decodeProposalData(prop.data);
    expect([OpCode.create, OpCode.create2]).toContain(txn.header.type); // the client sends create2
    expect(createPath(txn)).toBe('/x');
    expect(prop.zxid).toBe(makeZxid(1n, 2n)); // 1 was the session
    // The leader's own ack (its fsync) is in; without ours there is no quorum: no COMMIT, no answer.
    // Silence can only be checked over a window: 3 ticks, in which a leader that commits early would
    // have sent COMMIT and answered the client.
    await f.durable(prop.zxid);
    await l.expectQuiet(3 * TICK);
    expect(answered).toBe(false);
    expect(f.seeded.server.tree.getNode('/x')).toBeUndefined();
    l.send(quorumPacket(T.ACK, prop.zxid));
    expect(describe_(await l.expect(T.COMMIT))).toBe(`COMMIT ${hex(prop.zxid)}`);
    expect(await created).toBe('/x');
    expect(f.seeded.server.tree.getNode('/x')).toBeDefined();
  }));

test('a learner behind within the committed log gets DIFF(last committed) and a PROPOSAL/COMMIT pair per missing txn', () =>
  explained(async () => {
    const history = createTxns(1n, 1, 5);
    const f = await startLeader(3, { txns: history, acceptedEpoch: 1n, currentEpoch: 1n });
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 2n), currentEpoch: 1n });
    expect(newEpoch).toBe(2n);
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual([
      'DIFF 0x100000005',
      'PROPOSAL 0x100000003',
      'COMMIT 0x100000003',
      'PROPOSAL 0x100000004',
      'COMMIT 0x100000004',
      'PROPOSAL 0x100000005',
      'COMMIT 0x100000005',
      'NEWLEADER 0x200000000',
    ]);
    // The txns go out as they are in the leader's log.
    expect(sync.proposals.map((t) => [t.header.zxid, t.header.type, t.body])).toEqual(history.slice(2).map((t) => [t.header.zxid, t.header.type, t.body]));
    await finishSync(l, newEpoch);
    expect(f.served).toEqual([2n]);
  }));

test('a learner with same-epoch txns past the leader\'s last committed one gets TRUNC to it', () =>
  explained(async () => {
    // The leader established epoch 2 (currentEpoch 2) and logged nothing in it; the learner, still in
    // epoch 1, logged 0x100000006 and 0x100000007, which no quorum ever had.
    const f = await startLeader(3, { txns: createTxns(1n, 1, 5), acceptedEpoch: 2n, currentEpoch: 2n });
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 7n), currentEpoch: 1n });
    expect(newEpoch).toBe(3n);
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual(['TRUNC 0x100000005', 'NEWLEADER 0x300000000']);
    await finishSync(l, newEpoch);
    expect(f.served).toEqual([3n]);
  }));

test('a learner behind the committed log (older than the last snapshot) gets SNAP with the whole tree when the txn log sync is off', () =>
  explained(async () => {
    // Snapshot after 3 txns: the committed log the leader DIFFs from starts at 0x100000004.
    const f = await startLeader(3, { txns: createTxns(1n, 1, 6), snapshotAfter: 3, acceptedEpoch: 1n, currentEpoch: 1n, snapshotSizeFactor: -1 });
    expect(f.seeded.server.recoveredState.txns.map((t) => hex(t.header.zxid))).toEqual(['0x100000004', '0x100000005', '0x100000006']);
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 1n), currentEpoch: 1n });
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual(['SNAP 0x100000006', 'SNAPSHOT', 'NEWLEADER 0x200000000']);
    expect(sync.snapshotPaths).toEqual(userPaths(f.seeded.server));
    expect(sync.snapshotPaths).toEqual(['/n1-1', '/n1-2', '/n1-3', '/n1-4', '/n1-5', '/n1-6']);
    await finishSync(l, newEpoch);
    expect(f.served).toEqual([2n]);
  }));

test('a learner behind the committed log gets DIFF: the txns up to the committed log read from the txn log on disk, then the committed log', () =>
  explained(async () => {
    // log.100000001 holds 1..3, the snapshot at 3 rolled the log: log.100000004 holds 4..6 (the committed log).
    // snapshotSizeFactor 0: no size limit (log.100000004, preallocated, would be over 0.33 x the snapshot).
    const txns = createTxns(1n, 1, 6);
    const f = await startLeader(3, { txns, snapshotAfter: 3, acceptedEpoch: 1n, currentEpoch: 1n, snapshotSizeFactor: 0 });
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 1n), currentEpoch: 1n });
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual([
      'DIFF 0x100000006',
      'PROPOSAL 0x100000002', 'COMMIT 0x100000002',
      'PROPOSAL 0x100000003', 'COMMIT 0x100000003',
      'PROPOSAL 0x100000004', 'COMMIT 0x100000004',
      'PROPOSAL 0x100000005', 'COMMIT 0x100000005',
      'PROPOSAL 0x100000006', 'COMMIT 0x100000006',
      'NEWLEADER 0x200000000',
    ]);
    // The txns from disk are the ones logged (header and body; these were logged without a digest).
    expect(sync.proposals.map((t) => [t.header, t.body, t.digest ?? null])).toEqual(txns.slice(1).map((t) => [t.header, t.body, t.digest ?? null]));
    expect(logs.some((m) => m.includes('synced learner 2 with 3 txns from the txn log (0x100000001 to 0x100000004)'))).toBe(true);
    await finishSync(l, newEpoch);
    expect(f.served).toEqual([2n]);
  }));

test('a learner behind the committed log gets SNAP when the txn log to send is over snapshotSizeFactor x the snapshot', () =>
  explained(async () => {
    // The default 0.33: log.100000004 (after the file the learner's zxid is in) is preallocated to 64 MB on disk.
    const f = await startLeader(3, { txns: createTxns(1n, 1, 6), snapshotAfter: 3, acceptedEpoch: 1n, currentEpoch: 1n });
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 1n), currentEpoch: 1n });
    expect((await syncTranscript(l)).packets).toEqual(['SNAP 0x100000006', 'SNAPSHOT', 'NEWLEADER 0x200000000']);
    await finishSync(l, newEpoch);
  }));

test('a learner whose extra txn is from an older epoch than the leader\'s next one gets SNAP (no TRUNC across an epoch)', () =>
  explained(async () => {
    // Leader: 0x100000001..3 then epoch 2's 0x200000001..2. Learner: 0x100000001..4 (its 4 never committed).
    const f = await startLeader(3, { txns: [...createTxns(1n, 1, 3), ...createTxns(2n, 1, 2)], acceptedEpoch: 2n, currentEpoch: 2n });
    const l = await learner(f);
    const newEpoch = await register(l, 2n, 1n, { lastZxid: makeZxid(1n, 4n), currentEpoch: 1n });
    expect(newEpoch).toBe(3n);
    const sync = await syncTranscript(l);
    expect(sync.packets).toEqual(['SNAP 0x200000002', 'SNAPSHOT', 'NEWLEADER 0x300000000']);
    expect(sync.snapshotPaths).toEqual(['/n1-1', '/n1-2', '/n1-3', '/n2-1', '/n2-2']);
    await finishSync(l, newEpoch);
  }));

describe('a learner AHEAD of the leader in ACKEPOCH is dropped; the leader goes on with another', () => {
  const cases: { name: string; acceptedEpoch: bigint; ack: { lastZxid: bigint; currentEpoch: bigint } }[] = [
    { name: 'newer currentEpoch', acceptedEpoch: 2n, ack: { lastZxid: makeZxid(2n, 1n), currentEpoch: 2n } },
    { name: 'same currentEpoch, higher zxid', acceptedEpoch: 1n, ack: { lastZxid: makeZxid(1n, 7n), currentEpoch: 1n } },
  ];
  for (const c of cases) {
    test(c.name, () =>
      explained(async () => {
        const f = await startLeader(3, { txns: createTxns(1n, 1, 5), acceptedEpoch: 1n, currentEpoch: 1n });
        const ahead = await learner(f);
        const newEpoch = await register(ahead, 2n, c.acceptedEpoch, c.ack);
        expect(newEpoch).toBe(c.acceptedEpoch + 1n);
        // Leader.waitForEpochAck: "Follower is ahead of the leader": its link is closed, nothing else sent.
        await expect(ahead.next(INIT * TICK)).rejects.toThrow(/closed the quorum connection/);
        expect(f.served).toEqual([]);
        // Sid 3, in step with the leader, completes the quorum: the term goes on.
        const ok = await learner(f);
        expect(await register(ok, 3n, 1n, { lastZxid: makeZxid(1n, 5n), currentEpoch: 1n })).toBe(newEpoch);
        expect((await syncTranscript(ok)).packets).toEqual(['DIFF 0x100000005', `NEWLEADER ${hex(makeZxid(newEpoch, 0n))}`]);
        await finishSync(ok, newEpoch);
        expect(f.served).toEqual([newEpoch]);
      }),
    );
  }
});

describe('a learner that crashes right after acking NEWLEADER', () => {
  /** Sids 2.. of a 5-voter ensemble, each registered and synced up to NEWLEADER (not acked). */
  async function syncedUpToNewLeader(f: LeaderFixture, sids: bigint[]): Promise<ScriptedLearner[]> {
    const ls: ScriptedLearner[] = [];
    for (const sid of sids) {
      const l = await learner(f);
      l.send(quorumPacket(T.FOLLOWERINFO, 0n, encodeLearnerInfo({ sid, configVersion: 0n })));
      ls.push(l);
    }
    for (const l of ls) {
      expect(describe_(await l.expect(T.LEADERINFO))).toBe('LEADERINFO 0x100000000');
      l.send(quorumPacket(T.ACKEPOCH, 0n, encodeAckEpochData(0n)));
    }
    for (const l of ls) expect((await syncTranscript(l)).packets).toEqual(['DIFF 0x0', 'NEWLEADER 0x100000000']);
    return ls;
  }

  /**
   * Waits until the leader has taken in the crash (its machine no longer lists `sid`): only then is the
   * order "2 acked, 2 went, then 3 acked" what the leader saw. Without this wait 3's ACK can be read
   * before the leader's side of 2's socket reports the close, and {1,2,3} is a quorum of 5.
   */
  async function leaderForgot(f: LeaderFixture, sid: bigint): Promise<void> {
    const machine = (f.host as unknown as { machine: ZabLeader }).machine;
    await waitFor(`the leader to drop learner ${sid}`, async () => !machine.learnerStages().has(sid), 5_000, 5);
  }

  test('5 voters: its ack stops counting when it goes; the leader serves once two OTHER learners acked', () =>
    explained(async () => {
      const f = await startLeader(5);
      const [crashing, b, c] = await syncedUpToNewLeader(f, [2n, 3n, 4n]);
      crashing.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      await crashing.close();
      await leaderForgot(f, 2n);
      // {1, 3} is not a quorum of 5 without 2's ack, which left with 2 (it may ack a newer epoch now).
      b.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      await b.expectQuiet(2 * TICK);
      expect(f.served).toEqual([]);
      c.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      await b.expect(T.UPTODATE);
      await c.expect(T.UPTODATE);
      expect(f.served).toEqual([1n]);
      // And it goes on serving with them: a write commits on the two acks.
      const zk = new ZooKeeper(`127.0.0.1:${f.clientPort}`, { sessionTimeout: 6000 });
      zk.on('error', () => undefined);
      clients.push(zk);
      for (const l of [b, c]) {
        const p = await l.expect(T.PROPOSAL);
        l.send(quorumPacket(T.ACK, p.zxid));
      }
      await b.expect(T.COMMIT);
      await c.expect(T.COMMIT);
      await zk.connected();
    }));

  test('5 voters and only one other learner: the term ends within initLimit ticks, nothing served', () =>
    explained(async () => {
      const f = await startLeader(5);
      const [crashing, b] = await syncedUpToNewLeader(f, [2n, 3n]);
      const since = Date.now();
      crashing.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      await crashing.close();
      await leaderForgot(f, 2n);
      b.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      // The NEWLEADER phase started when the epoch acks made a quorum (just before `since`): it must end
      // by initLimit ticks after that (plus a tick of timer slack), having never served.
      const reason = await within(f.finished, (INIT + 5) * TICK, 'still running');
      expect(reason).toMatch(/no quorum within initLimit .* NEWLEADER acks/);
      expect(Date.now() - since).toBeLessThanOrEqual((INIT + 2) * TICK);
      expect(f.served).toEqual([]);
      expect(f.seeded.server.role).toBe('looking');
      await expect(b.next(2_000)).rejects.toThrow(/closed the quorum connection/);
    }));

  test('3 voters: its ack made the quorum, so the leader serves, then ends the term at the next synced-quorum check', () =>
    explained(async () => {
      const f = await startLeader(3);
      const [crashing] = await syncedUpToNewLeader(f, [2n]);
      crashing.send(quorumPacket(T.ACK, makeZxid(1n, 0n)));
      await crashing.close();
      // Apache's lead loop checks every tickTime that a synced quorum is still there; ours every other
      // tickTime/2 ping: within 2 ticks (+ slack) of the crash.
      const reason = await within(f.finished, (SYNC + 5) * TICK, 'still running');
      expect(reason).toMatch(/not enough followers synced/);
      expect(f.served).toEqual([1n]);
    }));
});

describe('bad input on the quorum port closes that link only; the leader keeps serving its follower', () => {
  const lengthOf = (type: number, dataLen: number): Buffer => {
    const b = Buffer.alloc(16);
    b.writeInt32BE(type, 0);
    b.writeBigInt64BE(0n, 4);
    b.writeInt32BE(dataLen, 12);
    return b;
  };
  const info = (data: Buffer): Buffer => encodeQuorumPacket(quorumPacket(T.FOLLOWERINFO, 0n, data));
  const pre10Info = Buffer.alloc(12);
  pre10Info.writeBigInt64BE(2n, 0);
  pre10Info.writeInt32BE(0, 8); // protocol version 0: a 3.3 learner (no LEADERINFO/ACKEPOCH handshake)
  const sidOnly = Buffer.alloc(8);
  sidOnly.writeBigInt64BE(3n, 0); // the 8-byte LearnerInfo of the oldest learners
  const cases: { name: string; bytes: Buffer }[] = [
    { name: 'garbage (an HTTP request)', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: zk\r\n\r\n') },
    { name: 'an oversized data length', bytes: lengthOf(T.FOLLOWERINFO, 0x7fffffff) },
    { name: 'a negative data length', bytes: lengthOf(T.FOLLOWERINFO, -2) },
    { name: 'a pre-Zab-1.0 LearnerInfo (protocol version 0)', bytes: info(pre10Info) },
    { name: 'an 8-byte (sid only) LearnerInfo', bytes: info(sidOnly) },
    { name: 'the leader\'s own sid', bytes: info(encodeLearnerInfo({ sid: 1n, configVersion: 0n })) },
    { name: 'a config version ahead of the leader\'s', bytes: info(encodeLearnerInfo({ sid: 3n, configVersion: 5n })) },
    { name: 'a first packet that is not FOLLOWERINFO/OBSERVERINFO (ACK)', bytes: encodeQuorumPacket(quorumPacket(T.ACK, 0n)) },
    // LearnerHandler.run closes on any first packet but FOLLOWERINFO/OBSERVERINFO, a type it does not know included.
    { name: 'a first packet of an unknown type (99)', bytes: encodeQuorumPacket(quorumPacket(99, 0n)) },
  ];

  test.each(cases)('$name', ({ bytes }) =>
    explained(async () => {
      const f = await startLeader(3);
      const l = await learner(f);
      const newEpoch = await register(l, 2n, 0n, { lastZxid: 0n, currentEpoch: 0n });
      await syncTranscript(l);
      await finishSync(l, newEpoch);
      const zk = await clientVia(f, l);

      const bad = net.connect({ host: '127.0.0.1', port: f.quorumPort });
      sockets.push(bad);
      bad.on('error', () => undefined);
      const received: Buffer[] = [];
      bad.on('data', (d: Buffer) => received.push(d));
      const closed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
      await new Promise<void>((resolve) => bad.once('connect', () => resolve()));
      bad.write(bytes);
      // The leader closes it (Apache: LearnerHandler exits and closes the socket) within initLimit ticks.
      const outcome = await within(closed.then(() => 'closed'), INIT * TICK, 'still open');
      expect(outcome).toBe('closed');
      // It was told nothing (no LEADERINFO to a link that is not a configured, current learner).
      expect(Buffer.concat(received).length).toBe(0);

      // The follower's link is untouched: the leader still pings it and commits through its acks.
      const pings = l.pings.length;
      await waitFor('two more PINGs to the follower', async () => l.pings.length >= pings + 2, 5_000, 10);
      const txn = await writeVia(zk, l, '/after-bad-input');
      expect(createPath(txn)).toBe('/after-bad-input');
      expect(f.served).toEqual([1n]);
      expect(f.seeded.server.role).toBe('leader');
    }),
  );

  test('a connection that never completes its first packet is closed within initLimit ticks', () =>
    explained(async () => {
      const f = await startLeader(3);
      const l = await learner(f);
      const newEpoch = await register(l, 2n, 0n, { lastZxid: 0n, currentEpoch: 0n });
      await syncTranscript(l);
      await finishSync(l, newEpoch);
      const idle = net.connect({ host: '127.0.0.1', port: f.quorumPort });
      sockets.push(idle);
      idle.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
      await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
      idle.write(Buffer.from([0, 0, 0, T.FOLLOWERINFO])); // 4 of a packet's 16+ bytes, then silence
      // Apache's LearnerHandler reads with a socket timeout of initLimit ticks: a half-open or silent
      // connection does not hold a handler for ever.
      const outcome = await within(closed.then(() => 'closed'), (INIT + 5) * TICK, 'still open');
      expect(outcome).toBe('closed');
      expect(f.seeded.server.role).toBe('leader');
    }));
});
