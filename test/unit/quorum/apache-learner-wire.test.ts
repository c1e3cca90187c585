/**
 * The quorum-port codec (quorum-wire.ts) against a live Apache ZooKeeper
 * 3.8 LEADER. Two real Apache servers (sids 2 and 3) and our election node
 * (sid 1, last zxid 0, so an Apache server leads) form one 3-voter
 * ensemble. Once our election decides FOLLOWING, a scripted learner
 * (apache-learner.ts) built only from the codec connects to the leader's
 * quorum port and does a follower's part for real: handshake, sync, live
 * broadcast of a client's writes, forwarded requests, REVALIDATE, PING
 * touches, and two later reconnects (DIFF, then SNAP). Whatever the leader
 * sends is decoded and checked against what the client did; whatever we
 * send, the leader must act on (a forwarded create shows up to the client,
 * our PING touches keep a session alive).
 *
 * The tests run in order on one ensemble (one JVM start-up costs ~10 s):
 * each continues from the state the previous one left.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JuteReader, JuteWriter } from '../../../src/jute';
import { CloseSessionTxn, CreateRequest, CreateSessionTxn, CreateTxn, DeleteTxn, Ids, OpCode, SetDataTxn, SyncRequest } from '../../../src/proto';
import { ZooKeeper } from '../../../src/client/zookeeper';
import { SnapSyncBody, writeSnapSyncStream } from '../../../src/server/persist/snap-sync';
import type { TxnEntry } from '../../../src/server/persist/types';
import { ServerState } from '../../../src/server/quorum/election-wire';
import { ElectionNode } from '../../../src/server/quorum/election-node';
import { MajorityQuorum } from '../../../src/server/quorum/quorum-verifier';
import {
  ACKEPOCH_ALREADY_ACCEPTED,
  QuorumPacketType as T,
  ZAB_PROTOCOL_VERSION,
  decodeLeaderInfoData,
  decodeNewLeaderData,
  decodeProposalData,
  decodeRevalidateReply,
  encodeAckEpochData,
  encodeQuorumPacket,
  encodeLearnerInfo,
  encodeRequestData,
  encodeRevalidateRequest,
  quorumPacket,
} from '../../../src/server/quorum/quorum-wire';
import { counterOf, epochOf, makeZxid } from '../../../src/server/zxid';
import { serverMode, waitFor } from '../../harness/four-letter-words';
import { ScriptedLearner } from './apache-learner';
import { ApachePeers, EnsemblePlan, apacheAvailable, launchApachePeers, planEnsemble } from './apache-election-peers';

jest.setTimeout(240_000);

const MY_SID = 1n;
const logs: string[] = [];
const log = (m: string) => logs.push(`${new Date().toISOString()} ${m}`);

let plan: EnsemblePlan;
let apache: ApachePeers | undefined;
let ours: ElectionNode | undefined;
let learner: ScriptedLearner | undefined;
let zk: ZooKeeper | undefined;
let leaderSid: bigint;
let followerSid: bigint;
let configText: string;

/** What this learner would keep on disk: the epochs and its last logged zxid. */
const disk = { acceptedEpoch: 0n, currentEpoch: 0n, lastZxid: 0n };
/** Zxids of the client's writes, for checking the snapshot's stats later. */
const zxidOf = new Map<string, bigint>();

beforeAll(async () => {
  if (!apacheAvailable()) throw new Error('Apache ZooKeeper 3.8 is not installed: run bash test/setup/ensure-deps.sh');
  plan = await planEnsemble([1n, 2n, 3n]);
  const verifier = new MajorityQuorum(plan.servers);
  configText = verifier.toString();
  ours = new ElectionNode({
    myId: MY_SID,
    verifier,
    history: () => ({ lastLoggedZxid: disk.lastZxid, currentEpoch: disk.currentEpoch }),
    logger: (m) => log(`[election] ${m}`),
  });
  await ours.start();
  apache = launchApachePeers(plan, [2n, 3n]);
  await explained(async () => {
    const modes = await waitFor('Apache 2 and 3 to serve', async () => {
      const m = await Promise.all([2n, 3n].map((s) => serverMode('127.0.0.1', plan.clientPorts.get(s)!, 1500).catch(() => undefined)));
      return m.every((x) => x === 'leader' || x === 'follower') ? m : undefined;
    }, 120_000, 250);
    leaderSid = modes[0] === 'leader' ? 2n : 3n;
    followerSid = leaderSid === 2n ? 3n : 2n;
    // FLE may first settle on a candidate that then follows the other (a
    // 200 ms finalize race, see apache-mixed-election.test.ts); a learner
    // that cannot reach its leader starts a new round, and so do we.
    let d = await ours!.decided();
    if (d.vote.leader !== leaderSid) {
      log(`test: decided for ${d.vote.leader}, which follows ${leaderSid}: new round`);
      ours!.lookForLeader();
      d = await ours!.decided();
    }
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: leaderSid } });
  });
}, 180_000);

afterAll(async () => {
  await zk?.close().catch(() => undefined);
  await learner?.close();
  await ours?.close();
  await apache?.stop();
});

function leaderLog(): string {
  try {
    return fs.readFileSync(path.join(apache!.servers.get(leaderSid)!.dir, 'zookeeper.log'), 'utf8');
  } catch {
    return '';
  }
}

async function explained(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const tails = apache ? [...apache.servers.values()].map((s) => `--- Apache ${s.id} ---\n${s.logTail(40)}`).join('\n') : '';
    (err as Error).message += `\n--- ours ---\n${logs.slice(-60).join('\n')}\n${tails}`;
    throw err;
  }
}

function record(rec: { serialize(w: JuteWriter): void }): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}

const txnRecord = <R>(txn: TxnEntry, decode: (r: JuteReader) => R): R => decode(new JuteReader(txn.body));
const leaderQuorumPort = () => plan.servers.find((s) => s.sid === leaderSid)!.quorumPort;

/** FOLLOWERINFO -> LEADERINFO -> ACKEPOCH, as Learner.registerWithLeader; returns the new epoch. */
async function register(l: ScriptedLearner, ackEpochZxid = disk.lastZxid, infoType = T.FOLLOWERINFO): Promise<bigint> {
  l.send(quorumPacket(infoType, makeZxid(disk.acceptedEpoch, 0n), encodeLearnerInfo({ sid: MY_SID, configVersion: 0n })));
  const info = await l.expect(T.LEADERINFO);
  expect(decodeLeaderInfoData(info.data)).toBe(ZAB_PROTOCOL_VERSION);
  expect(info.data).toHaveLength(4);
  expect(info.authinfo).toBeNull();
  expect(counterOf(info.zxid)).toBe(0n);
  const newEpoch = epochOf(info.zxid);
  let ackEpoch: bigint;
  if (newEpoch > disk.acceptedEpoch) {
    ackEpoch = disk.currentEpoch;
    disk.acceptedEpoch = newEpoch;
  } else {
    expect(newEpoch).toBe(disk.acceptedEpoch);
    ackEpoch = ACKEPOCH_ALREADY_ACCEPTED;
  }
  l.send(quorumPacket(T.ACKEPOCH, ackEpochZxid, encodeAckEpochData(ackEpoch)));
  return newEpoch;
}

interface SyncResult {
  mode: T.DIFF | T.SNAP | T.TRUNC;
  /** The DIFF/SNAP/TRUNC packet's zxid. */
  zxid: bigint;
  snapshot?: SnapSyncBody;
  /** PROPOSALs committed during the sync, in order. */
  committed: TxnEntry[];
  newLeaderConfig: string | null;
}

/** From the first sync packet to UPTODATE, ACKing NEWLEADER and UPTODATE, as Learner.syncWithLeader. */
async function syncWithLeader(l: ScriptedLearner, newEpoch: bigint): Promise<SyncResult> {
  const first = await l.next();
  if (first.kind !== 'packet' || ![T.DIFF, T.SNAP, T.TRUNC].includes(first.packet.type)) {
    throw new Error(`the first sync packet must be DIFF, SNAP or TRUNC: ${JSON.stringify(first, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  const result: SyncResult = { mode: first.packet.type as SyncResult['mode'], zxid: first.packet.zxid, committed: [], newLeaderConfig: null };
  expect(first.packet.data).toBeNull();
  if (result.mode === T.SNAP) {
    const snap = await l.next();
    if (snap.kind !== 'snapshot') throw new Error('SNAP must be followed by the snapshot');
    expect(snap.zxid).toBe(first.packet.zxid);
    result.snapshot = snap.snapshot;
  }
  const pending: TxnEntry[] = [];
  let newLeaderSeen = false;
  for (;;) {
    const ev = await l.next();
    if (ev.kind !== 'packet') throw new Error('a second snapshot in one sync');
    const p = ev.packet;
    if (p.type === T.PROPOSAL) {
      const txn = decodeProposalData(p.data);
      expect(txn.header.zxid).toBe(p.zxid);
      pending.push(txn);
    } else if (p.type === T.COMMIT) {
      // Java's learner commits the head of its pending proposals only.
      expect(pending[0]?.header.zxid).toBe(p.zxid);
      result.committed.push(pending.shift()!);
    } else if (p.type === T.NEWLEADER) {
      expect(p.zxid).toBe(makeZxid(newEpoch, 0n));
      result.newLeaderConfig = decodeNewLeaderData(p.data);
      newLeaderSeen = true;
      // Durable order of 3.8.5+: txns, then currentEpoch, then the ACK.
      disk.currentEpoch = newEpoch;
      l.send(quorumPacket(T.ACK, makeZxid(newEpoch, 0n)));
    } else if (p.type === T.UPTODATE) {
      expect(p.zxid).toBe(-1n);
      expect(p.data).toBeNull();
      expect(result.newLeaderConfig).not.toBeNull();
      l.send(quorumPacket(T.ACK, makeZxid(newEpoch, 0n)));
      break;
    } else if (p.type === T.PING && newLeaderSeen) {
      // LearnerHandler pings once NEWLEADER is queued (sendingThreadStarted), so a PING can come
      // before UPTODATE when the sync outlasts tickTime/2; Learner.syncWithLeader has no case for it.
      continue;
    } else {
      throw new Error(`unexpected ${T[p.type] ?? p.type} during sync`);
    }
  }
  expect(pending).toEqual([]);
  disk.lastZxid = result.committed.at(-1)?.header.zxid ?? result.zxid;
  return result;
}

/** One broadcast: PROPOSAL (decoded), our ACK, the COMMIT of the same zxid. */
async function broadcast(l: ScriptedLearner, timeoutMs = 10_000): Promise<TxnEntry> {
  const p = await l.expect(T.PROPOSAL, timeoutMs);
  const txn = decodeProposalData(p.data);
  expect(txn.header.zxid).toBe(p.zxid);
  expect(p.zxid).toBe(disk.lastZxid + 1n);
  // zookeeper.digest.enabled defaults to true: the digest follows the txn.
  expect(txn.digest?.version).toBe(2);
  l.send(quorumPacket(T.ACK, p.zxid));
  const c = await l.expect(T.COMMIT);
  expect(c.zxid).toBe(p.zxid);
  expect(c.data).toBeNull();
  disk.lastZxid = p.zxid;
  return txn;
}

/**
 * Re-encodes everything the leader sent on `l` (packets with
 * encodeQuorumPacket, the snapshot with writeSnapSyncStream) and compares
 * with the bytes that arrived: our encoders must produce Apache's bytes
 * exactly, which is what a leader of ours has to send to an Apache learner.
 */
async function expectReencodesToReceivedBytes(l: ScriptedLearner): Promise<void> {
  const parts: Buffer[] = [];
  for (const ev of l.decoded) {
    if (ev.kind === 'packet') {
      parts.push(encodeQuorumPacket(ev.packet));
    } else {
      await writeSnapSyncStream(ev.snapshot, (chunk) => {
        parts.push(chunk);
      });
    }
  }
  const ours = Buffer.concat(parts);
  const theirs = l.receivedBytes;
  expect(theirs.length - ours.length).toBe(l.undecoded);
  expect(ours.equals(theirs.subarray(0, ours.length))).toBe(true);
}

function checkBaseTree(snapshot: SnapSyncBody): void {
  const byPath = new Map([...snapshot.nodes].map((n) => [n.path, n]));
  for (const p of ['', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) expect(byPath.has(p)).toBe(true);
  // The config node holds the same QuorumVerifier text NEWLEADER carries (and our verifier prints).
  expect(byPath.get('/zookeeper/config')!.data?.toString('utf8')).toBe(configText);
  expect([...snapshot.nodes][0].path).toBe('');
}

test('handshake and first sync: FOLLOWERINFO, LEADERINFO, ACKEPOCH, SNAP (or DIFF), NEWLEADER, UPTODATE', async () => {
  await explained(async () => {
    learner = await ScriptedLearner.connect('127.0.0.1', leaderQuorumPort(), log);
    const newEpoch = await register(learner);
    expect(newEpoch).toBeGreaterThanOrEqual(1n);
    // The epoch the leader proposes is the one it runs in (its currentEpoch file).
    const leaderDataDir = apache!.servers.get(leaderSid)!.dataDir;
    expect(fs.readFileSync(path.join(leaderDataDir, 'version-2', 'currentEpoch'), 'utf8').trim()).toBe(String(newEpoch));
    const sync = await syncWithLeader(learner, newEpoch);
    log(`test: first sync was ${T[sync.mode]} 0x${sync.zxid.toString(16)}`);
    expect([T.SNAP, T.DIFF]).toContain(sync.mode);
    expect(sync.newLeaderConfig).toBe(configText);
    if (sync.snapshot) {
      checkBaseTree(sync.snapshot);
      // A fresh leader's last processed zxid is its new epoch's zero.
      expect(sync.zxid).toBe(makeZxid(newEpoch, 0n));
    }
    expect(leaderLog()).toMatch(new RegExp(`Follower sid: ${MY_SID} : info : 127\\.0\\.0\\.1:${plan.servers[0].quorumPort}:${plan.servers[0].electionPort}:participant`));
  });
});

test("live broadcast: a client's writes through an Apache follower arrive as PROPOSAL + COMMIT; our PING replies keep the link", async () => {
  await explained(async () => {
    const l = learner!;
    zk = new ZooKeeper(`127.0.0.1:${plan.clientPorts.get(followerSid)}`, { sessionTimeout: 10_000 });
    zk.on('error', () => undefined);
    const connected = zk.connected();
    const session = await broadcast(l);
    await connected;
    expect(session.header.type).toBe(OpCode.createSession);
    expect(session.header.clientId).toBe(zk.sessionId);
    expect(txnRecord(session, CreateSessionTxn.decode).timeOut).toBe(10_000);

    const writes: [() => Promise<unknown>, (txn: TxnEntry) => void][] = [
      [() => zk!.create('/lw-a', Buffer.from('one')), (txn) => {
        expect(txn.header.type).toBe(OpCode.create2);
        const c = txnRecord(txn, CreateTxn.decode);
        expect([c.path, c.data?.toString(), c.ephemeral]).toEqual(['/lw-a', 'one', false]);
        zxidOf.set('/lw-a created', txn.header.zxid);
      }],
      [() => zk!.setData('/lw-a', Buffer.from('two')), (txn) => {
        expect(txn.header.type).toBe(OpCode.setData);
        const s = txnRecord(txn, SetDataTxn.decode);
        expect([s.path, s.data?.toString(), s.version]).toEqual(['/lw-a', 'two', 1]);
      }],
      [() => zk!.create('/lw-a/child', Buffer.from('c')), (txn) => {
        expect(txn.header.type).toBe(OpCode.create2);
        expect(txnRecord(txn, CreateTxn.decode).path).toBe('/lw-a/child');
      }],
      [() => zk!.delete('/lw-a/child'), (txn) => {
        expect(txn.header.type).toBe(OpCode.delete);
        expect(txnRecord(txn, DeleteTxn.decode).path).toBe('/lw-a/child');
      }],
    ];
    // One at a time, so each proposal is known to be this write's.
    for (const [write, check] of writes) {
      const op = write();
      const txn = await broadcast(l);
      await op;
      expect(txn.header.clientId).toBe(zk!.sessionId);
      check(txn);
    }

    // syncLimit (5) x tickTime (500) = 2.5 s without a packet from us and the
    // leader drops the learner. Nothing but our PING replies goes out here.
    const before = l.pings.length;
    await l.expectQuiet(4000);
    expect(l.closed).toBe(false);
    const pings = l.pings.slice(before);
    expect(pings.length).toBeGreaterThanOrEqual(4);
    for (const { ping, reply } of pings) {
      // Leader.lead pings with the last proposed zxid, no data, no authinfo; we echo type, zxid and authinfo.
      expect([ping.zxid, ping.data, ping.authinfo]).toEqual([disk.lastZxid, null, null]);
      expect([reply.type, reply.zxid, reply.authinfo]).toEqual([T.PING, ping.zxid, null]);
    }
  });
});

test('forwarded requests: REQUEST createSession / create / sync, REVALIDATE, and PING touches that keep our session alive', async () => {
  await explained(async () => {
    const l = learner!;
    // A session id as a learner makes one: our sid in the top byte.
    const sid = (MY_SID << 56n) | (BigInt(Date.now()) << 8n) & 0x00ff_ffff_ffff_ff00n;
    const timeout = 3000;
    const timeoutBytes = Buffer.alloc(4);
    timeoutBytes.writeInt32BE(timeout);
    l.send(quorumPacket(T.REQUEST, -1n, encodeRequestData({ sessionId: sid, cxid: 0, type: OpCode.createSession, body: timeoutBytes })));
    const created = await broadcast(l);
    expect([created.header.type, created.header.clientId, created.header.cxid]).toEqual([OpCode.createSession, sid, 0]);
    expect(txnRecord(created, CreateSessionTxn.decode).timeOut).toBe(timeout);

    const body = record(new CreateRequest({ path: '/lw-learner', data: Buffer.from('from ts'), acl: Ids.OPEN_ACL_UNSAFE, flags: 1 }));
    l.send(quorumPacket(T.REQUEST, -1n, encodeRequestData({ sessionId: sid, cxid: 1, type: OpCode.create, body }), [{ scheme: 'ip', id: '127.0.0.1' }]));
    const create = await broadcast(l);
    expect([create.header.type, create.header.clientId, create.header.cxid]).toEqual([OpCode.create, sid, 1]);
    const c = txnRecord(create, CreateTxn.decode);
    expect([c.path, c.data?.toString(), c.ephemeral]).toEqual(['/lw-learner', 'from ts', true]);
    // The Apache follower applied it: the client sees our ephemeral, owned by our session.
    const seen = await waitFor('the client to see /lw-learner', () => zk!.getData('/lw-learner').catch(() => undefined), 10_000);
    expect(seen.data?.toString()).toBe('from ts');
    expect(seen.stat.ephemeralOwner).toBe(sid);

    // A forwarded sync is answered with SYNC (zxid 0, no data) once earlier proposals are committed.
    l.send(quorumPacket(T.REQUEST, -1n, encodeRequestData({ sessionId: sid, cxid: 2, type: OpCode.sync, body: record(new SyncRequest({ path: '/' })) })));
    const sync = await l.expect(T.SYNC);
    expect([sync.zxid, sync.data, sync.authinfo]).toEqual([0n, null, null]);

    // REVALIDATE: the leader answers on the same packet (zxid -1) with long id + boolean.
    for (const [id, valid] of [[sid, true], [sid + 0x1234n, false]] as const) {
      l.send(quorumPacket(T.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId: id, timeout })));
      const reply = await l.expect(T.REVALIDATE);
      expect(reply.zxid).toBe(-1n);
      expect(reply.data).toHaveLength(9);
      expect(decodeRevalidateReply(reply.data)).toEqual({ sessionId: id, valid });
    }

    // Only the leader expires sessions; our PING replies' touches keep this one alive well past its timeout...
    l.touches = () => [{ sessionId: sid, timeout }];
    const pingsBefore = l.pings.length;
    await l.expectQuiet(2 * timeout + 1500);
    expect(l.pings.length - pingsBefore).toBeGreaterThanOrEqual(8);
    // ...and once they stop, the leader closes it, deleting its ephemeral.
    l.touches = () => [];
    const close = await broadcast(l, 4 * timeout);
    expect([close.header.type, close.header.clientId]).toEqual([OpCode.closeSession, sid]);
    expect(txnRecord(close, CloseSessionTxn.decode).paths2Delete).toEqual(['/lw-learner']);
    await waitFor('the client to see /lw-learner gone', async () => (await zk!.exists('/lw-learner')) === null, 10_000);
  });
});

test('reconnect after writes made while away: same epoch (ACKEPOCH -1), DIFF with the missed PROPOSAL/COMMIT pairs', async () => {
  await explained(async () => {
    await expectReencodesToReceivedBytes(learner!);
    await learner!.close();
    const from = disk.lastZxid;
    await zk!.create('/lw-b', Buffer.from('bee'));
    await zk!.setData('/lw-a', Buffer.from('three'));
    learner = await ScriptedLearner.connect('127.0.0.1', leaderQuorumPort(), log);
    const epoch = disk.acceptedEpoch;
    expect(await register(learner)).toBe(epoch);
    const sync = await syncWithLeader(learner, epoch);
    expect(sync.mode).toBe(T.DIFF);
    expect(sync.committed.map((t) => t.header.zxid)).toEqual([from + 1n, from + 2n]);
    // DIFF's zxid is the leader's maxCommittedLog: the last txn it queues.
    expect(sync.zxid).toBe(from + 2n);
    const [b, a] = sync.committed;
    expect([b.header.type, b.header.clientId]).toEqual([OpCode.create2, zk!.sessionId]);
    expect([txnRecord(b, CreateTxn.decode).path, txnRecord(b, CreateTxn.decode).data?.toString()]).toEqual(['/lw-b', 'bee']);
    expect(a.header.type).toBe(OpCode.setData);
    const s = txnRecord(a, SetDataTxn.decode);
    expect([s.path, s.data?.toString(), s.version]).toEqual(['/lw-a', 'three', 2]);
    zxidOf.set('/lw-a last set', a.header.zxid);
    expect(leaderLog()).toMatch(new RegExp(`peerLastZxid=0x${from.toString(16)}\\b`));
  });
});

test('reconnect as a wiped learner (last zxid 0): SNAP of the tree the client built, then live traffic again', async () => {
  await explained(async () => {
    await expectReencodesToReceivedBytes(learner!);
    await learner!.close();
    const committedBefore = disk.lastZxid;
    learner = await ScriptedLearner.connect('127.0.0.1', leaderQuorumPort(), log);
    const epoch = await register(learner, 0n);
    const sync = await syncWithLeader(learner, epoch);
    expect(sync.mode).toBe(T.SNAP);
    // The leader's last processed zxid: nothing was written since our last commit.
    expect(sync.zxid).toBe(committedBefore);
    const snap = sync.snapshot!;
    checkBaseTree(snap);
    const byPath = new Map([...snap.nodes].map((n) => [n.path, n]));
    const a = byPath.get('/lw-a')!;
    expect(a.data?.toString()).toBe('three');
    expect([a.stat.czxid, a.stat.mzxid, a.stat.version]).toEqual([zxidOf.get('/lw-a created'), zxidOf.get('/lw-a last set'), 2]);
    expect(byPath.get('/lw-b')?.data?.toString()).toBe('bee');
    expect(byPath.has('/lw-a/child')).toBe(false);
    expect(byPath.has('/lw-learner')).toBe(false);
    // The client's session is in the snapshot with its negotiated timeout.
    expect(snap.sessions.get(zk!.sessionId)).toBe(10_000);

    // Back in broadcast on the new link.
    const op = zk!.delete('/lw-b');
    const del = await broadcast(learner);
    await op;
    expect([del.header.type, txnRecord(del, DeleteTxn.decode).path]).toEqual([OpCode.delete, '/lw-b']);

    await expectReencodesToReceivedBytes(learner);
    expect(learner.decoded.some((e) => e.kind === 'snapshot')).toBe(true);

    expect(leaderLog()).toMatch(/Sending snapshot last zxid of peer is 0x0\b/);
  });
});

test('as an observer (OBSERVERINFO): an empty DIFF, then committed txns arrive whole as INFORM', async () => {
  await explained(async () => {
    await learner!.close();
    const last = disk.lastZxid;
    learner = await ScriptedLearner.connect('127.0.0.1', leaderQuorumPort(), log);
    const epoch = await register(learner, last, T.OBSERVERINFO);
    const sync = await syncWithLeader(learner, epoch);
    // In sync already: DIFF at our own last zxid, nothing in it.
    expect([sync.mode, sync.zxid, sync.committed]).toEqual([T.DIFF, last, []]);
    const op = zk!.create('/lw-observed', Buffer.from('seen'));
    const inform = await learner.expect(T.INFORM);
    await op;
    const txn = decodeProposalData(inform.data);
    expect([inform.zxid, txn.header.zxid, txn.header.type, txn.header.clientId]).toEqual([last + 1n, last + 1n, OpCode.create2, zk!.sessionId]);
    expect(txnRecord(txn, CreateTxn.decode).path).toBe('/lw-observed');
    // An observer gets no PROPOSAL or COMMIT of its own.
    await learner.expectQuiet(1000);
    await expectReencodesToReceivedBytes(learner);
    // Nothing we sent in this whole file confused the leader.
    expect(leaderLog()).not.toMatch(/unexpected quorum packet|is not ACKEPOCH|Next packet was supposed to be an ACK|First packet .* is not FOLLOWERINFO/);
  });
});
