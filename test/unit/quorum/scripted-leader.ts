/**
 * A scripted LEADER for testing our learner (learner-host.ts) packet by
 * packet, built only from quorum-wire.ts (the codec proven against a live
 * Apache leader, apache-learner-wire.test.ts): it listens on the elected
 * leader's quorum address, hands the test each learner connection, sends
 * exactly what the test tells it to (LEADERINFO, DIFF, TRUNC, SNAP + the
 * snapshot stream, PROPOSAL, COMMIT, NEWLEADER, UPTODATE, PING) and records
 * every packet the learner sends, in order. No jest globals.
 *
 * PING replies are kept apart (`pingReplies`), so a test awaiting the next
 * packet of the conversation never trips over one; `startPinging` keeps a
 * learner in broadcast from timing out (its syncLimit) while a test waits
 * for something else.
 *
 * `onPacket` runs synchronously in the socket's data handler, before the
 * packet is queued: what a test inspects there (files on disk) is the state
 * at the moment the packet arrived, not after whatever the learner did next.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { JuteWriter } from '../../../src/jute';
import { CreateTxn, Ids, OpCode, TxnHeader } from '../../../src/proto';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { END_OF_RECORD, decodeTxnPayload } from '../../../src/server/persist/txn-codec';
import { FILE_HEADER_SIZE } from '../../../src/server/persist/txn-log-reader';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { writeSnapSyncStream } from '../../../src/server/persist/snap-sync';
import type { SnapshotContents, TxnEntry } from '../../../src/server/persist/types';
import {
  QuorumPacketData,
  QuorumPacketType as T,
  QuorumStreamDecoder,
  encodeLeaderInfoData,
  encodeNewLeaderData,
  encodeProposalData,
  encodeQuorumPacket,
  quorumPacket,
} from '../../../src/server/quorum/quorum-wire';
import { makeZxid } from '../../../src/server/zxid';

const hex = (z: bigint): string => `0x${BigInt.asUintN(64, z).toString(16)}`;
const typeName = (t: number): string => T[t] ?? String(t);

/** One learner's connection to the scripted leader. */
export class LeaderLink {
  /** Every packet the learner sent, PING replies included, in stream order. */
  readonly received: QuorumPacketData[] = [];
  /** The learner's PING replies (not queued for next()). */
  readonly pingReplies: QuorumPacketData[] = [];
  /** Called synchronously for each packet as it is decoded (before it is queued). */
  onPacket?: (p: QuorumPacketData) => void;
  private readonly decoder = new QuorumStreamDecoder({ snapshotAfterSnap: false });
  private readonly queue: QuorumPacketData[] = [];
  /** Everyone waiting in next() (a test may await two things at once, e.g. an ACK and a quiet window). */
  private readonly waiters = new Set<() => void>();
  private ended?: Error;
  private pinger?: NodeJS.Timeout;
  private readonly closedPromise: Promise<void>;

  constructor(
    private readonly sock: net.Socket,
    private readonly log: (m: string) => void,
  ) {
    sock.setNoDelay(true);
    this.closedPromise = new Promise((resolve) => sock.once('close', () => resolve()));
    sock.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      let packets: QuorumPacketData[];
      try {
        packets = this.decoder.push(chunk).flatMap((ev) => (ev.kind === 'packet' ? [ev.packet] : []));
      } catch (e) {
        this.end(e as Error);
        sock.destroy();
        return;
      }
      for (const p of packets) {
        this.received.push(p);
        this.onPacket?.(p);
        if (p.type === T.PING) this.pingReplies.push(p);
        else this.queue.push(p);
      }
      this.wake();
    });
    sock.on('error', (e) => this.end(e));
    sock.on('close', () => this.end(new Error('the learner closed the quorum connection')));
  }

  // ---- what the leader sends ----

  send(p: QuorumPacketData): void {
    this.log(`leader: -> ${typeName(p.type)} ${hex(p.zxid)}`);
    if (!this.sock.destroyed) this.sock.write(encodeQuorumPacket(p));
  }

  leaderInfo(newEpoch: bigint): void {
    this.send(quorumPacket(T.LEADERINFO, makeZxid(newEpoch, 0n), encodeLeaderInfoData()));
  }

  diff(zxid: bigint): void {
    this.send(quorumPacket(T.DIFF, zxid));
  }

  trunc(zxid: bigint): void {
    this.send(quorumPacket(T.TRUNC, zxid));
  }

  /** SNAP, then the snapshot body and "BenWasHere" raw on the stream (snap-sync.ts), as LearnerHandler does. */
  async snap(zxid: bigint, contents: SnapshotContents): Promise<void> {
    this.send(quorumPacket(T.SNAP, zxid));
    const chunks: Buffer[] = [];
    await writeSnapSyncStream(contents, (c) => void chunks.push(Buffer.from(c)));
    if (!this.sock.destroyed) this.sock.write(Buffer.concat(chunks));
  }

  proposal(txn: TxnEntry): void {
    this.send(quorumPacket(T.PROPOSAL, txn.header.zxid, encodeProposalData(txn)));
  }

  commit(zxid: bigint): void {
    this.send(quorumPacket(T.COMMIT, zxid));
  }

  /** PROPOSAL + COMMIT for each txn (a DIFF's body). */
  pairs(txns: readonly TxnEntry[]): void {
    for (const t of txns) {
      this.proposal(t);
      this.commit(t.header.zxid);
    }
  }

  newLeader(newEpoch: bigint, config = ''): void {
    this.send(quorumPacket(T.NEWLEADER, makeZxid(newEpoch, 0n), encodeNewLeaderData(config)));
  }

  upToDate(): void {
    this.send(quorumPacket(T.UPTODATE, -1n));
  }

  ping(zxid: bigint): void {
    this.send(quorumPacket(T.PING, zxid));
  }

  /** PINGs every `intervalMs` until stopPinging() or the link closes (the leader's tickTime/2 loop). */
  startPinging(intervalMs: number, zxid: () => bigint = () => 0n): void {
    this.stopPinging();
    this.pinger = setInterval(() => {
      if (!this.sock.destroyed) this.sock.write(encodeQuorumPacket(quorumPacket(T.PING, zxid())));
    }, intervalMs);
    this.pinger.unref();
  }

  stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
  }

  // ---- what the learner sends ----

  /** The next non-PING packet, waiting up to `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<QuorumPacketData> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet from the learner within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    const p = this.queue.shift()!;
    this.log(`leader: <- ${typeName(p.type)} ${hex(p.zxid)}`);
    return p;
  }

  /** The next non-PING packet, which must be of `type`. */
  async expect(type: T, timeoutMs = 10_000): Promise<QuorumPacketData> {
    const p = await this.next(timeoutMs);
    if (p.type !== type) throw new Error(`expected ${typeName(type)} from the learner, got ${typeName(p.type)} ${hex(p.zxid)}`);
    return p;
  }

  /** Waits `ms` and fails if a non-PING packet arrives meanwhile (an absence can only be checked over a window). */
  async expectQuiet(ms: number): Promise<void> {
    let got: QuorumPacketData | undefined;
    try {
      got = await this.next(ms);
    } catch (e) {
      if (!/no packet from the learner/.test((e as Error).message)) throw e;
    }
    if (got) throw new Error(`expected no packet for ${ms} ms, got ${typeName(got.type)} ${hex(got.zxid)}`);
  }

  /** Resolves when the connection is closed (by either side); rejects after `timeoutMs`. */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the quorum connection was still open after ${timeoutMs} ms`)), timeoutMs);
      void this.closedPromise.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  get closed(): boolean {
    return this.sock.destroyed;
  }

  /** The leader goes away: closes the socket. */
  close(): Promise<void> {
    this.stopPinging();
    if (!this.sock.destroyed) this.sock.destroy();
    return this.closedPromise;
  }

  private end(e: Error): void {
    this.stopPinging();
    if (!this.ended) {
      this.ended = e;
      this.log(`leader: link ended: ${e.message}`);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Listens on a quorum port as the elected leader; each learner connection becomes a LeaderLink. */
export class ScriptedLeader {
  readonly links: LeaderLink[] = [];
  private readonly pending: LeaderLink[] = [];
  private waiter?: () => void;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly log: (m: string) => void,
  ) {
    server.on('connection', (sock) => {
      const link = new LeaderLink(sock, log);
      this.log(`leader: learner connected from ${sock.remotePort}`);
      this.links.push(link);
      this.pending.push(link);
      const w = this.waiter;
      this.waiter = undefined;
      w?.();
    });
  }

  static listen(port: number, log: (m: string) => void, host = '127.0.0.1'): Promise<ScriptedLeader> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve(new ScriptedLeader(srv, port, log));
      });
    });
  }

  /** The next learner connection, waiting up to `timeoutMs`. */
  async accept(timeoutMs = 10_000): Promise<LeaderLink> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no learner connected within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.pending.shift()!;
  }

  /** Stops listening and closes every link. */
  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- fixtures shared by the scripted-conversation tests ----------------------------------------

/** A create txn of `path` at `zxid` (a plain persistent node, open ACL), as a leader would log it. */
export function createTxn(zxid: bigint, path: string, data = `data of ${path}`): TxnEntry {
  const w = new JuteWriter();
  new CreateTxn({ path, data: Buffer.from(data), acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1 }).serialize(w);
  return { header: new TxnHeader({ clientId: 0n, cxid: 0, zxid, time: 1_700_000_000_000n, type: OpCode.create }), body: w.toBuffer() };
}

/** The create txns of `/<prefix><counter>` for counters from..to of `epoch`. */
export function createTxns(epoch: bigint, from: number, to: number, prefix = 'n'): TxnEntry[] {
  const out: TxnEntry[] = [];
  for (let c = from; c <= to; c++) out.push(createTxn(makeZxid(epoch, BigInt(c)), `/${prefix}${epoch}-${c}`));
  return out;
}

export interface SeededServer {
  server: ZooKeeperServer;
  store: FileTxnStore;
  dataDir: string;
  /** Epochs and last zxid as a QuorumPeer would hand them to its host (store.loadEpochs). */
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  lastZxid: bigint;
}

export interface SeedOptions {
  clientPort?: number;
  tickTime?: number;
  /** Logged (fsynced) before the server is handed out, after the first start's snapshot.0. */
  txns?: readonly TxnEntry[];
  /** Take a snapshot after the first `snapshotAfter` txns (those then leave the committed log a leader DIFFs from). */
  snapshotAfter?: number;
  acceptedEpoch?: bigint;
  currentEpoch?: bigint;
  serverId?: number;
  /** zookeeper.snapshotSizeFactor (default 0.33; 0: no size limit, < 0: no DIFF from the txn log). */
  snapshotSizeFactor?: number;
  log?: (m: string) => void;
}

/**
 * An ensemble member's server on `dataDir` (started as QuorumPeer.start does: ensembleMember, so it
 * serves nobody until a host gives it a role) holding `txns` on disk, then reloaded so its tree,
 * recoveredState and epochs are what a restart would read.
 */
export async function startSeededServer(dataDir: string, o: SeedOptions = {}): Promise<SeededServer> {
  const server = await ZooKeeperServer.start({
    dataDir,
    clientPort: o.clientPort ?? 0,
    tickTime: o.tickTime ?? 200,
    ensembleMember: true,
    serverId: o.serverId ?? 1,
    snapshotSizeFactor: o.snapshotSizeFactor,
    logger: o.log,
  });
  const store = server.store as FileTxnStore;
  if (!(store instanceof FileTxnStore)) throw new Error('expected a file store');
  const txns = o.txns ?? [];
  const cut = o.snapshotAfter ?? 0;
  if (cut > 0) {
    await store.append([...txns.slice(0, cut)]);
    await server.reload();
    await server.writeSnapshotNow();
  }
  if (txns.length > cut) await store.append([...txns.slice(cut)]);
  if (o.acceptedEpoch !== undefined) await store.setAcceptedEpoch(o.acceptedEpoch);
  if (o.currentEpoch !== undefined) await store.setCurrentEpoch(o.currentEpoch);
  await server.reload();
  const lastZxid = server.recoveredState.lastZxid;
  const epochs = await store.loadEpochs(lastZxid);
  return { server, store, dataDir, acceptedEpoch: epochs.acceptedEpoch, currentEpoch: epochs.currentEpoch, lastZxid };
}

/**
 * The txns in `dataDir`'s logs, read SYNCHRONOUSLY (so it can run inside a socket's data handler and
 * see the disk as it is at that instant): every log.<zxid> file in zxid order, each up to its first
 * empty (preallocated) or incomplete entry.
 */
export function readLogSync(dataDir: string): TxnEntry[] {
  const dir = path.join(dataDir, 'version-2');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^log\.[0-9a-f]+$/.test(f))
    .sort((a, b) => (BigInt('0x' + a.slice(4)) < BigInt('0x' + b.slice(4)) ? -1 : 1));
  const out: TxnEntry[] = [];
  for (const f of files) {
    const buf = fs.readFileSync(path.join(dir, f));
    let pos = FILE_HEADER_SIZE;
    while (pos + 12 <= buf.length) {
      const len = buf.readInt32BE(pos + 8);
      if (len <= 0 || pos + 12 + len + 1 > buf.length || buf[pos + 12 + len] !== END_OF_RECORD) break;
      out.push(decodeTxnPayload(buf.subarray(pos + 12, pos + 12 + len)));
      pos += 12 + len + 1;
    }
  }
  return out;
}

/** `dataDir/version-2/<name>` as a number (the epoch files), or null when absent; synchronous. */
export function readEpochSync(dataDir: string, name: 'currentEpoch' | 'acceptedEpoch'): bigint | null {
  try {
    return BigInt(fs.readFileSync(path.join(dataDir, 'version-2', name), 'utf8').trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Paths of the tree's user nodes (not /zookeeper/...), sorted. */
export function userPaths(server: ZooKeeperServer): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    for (const c of server.tree.getChildren(p).children) {
      const child = p === '/' ? `/${c}` : `${p}/${c}`;
      if (child === '/zookeeper') continue;
      out.push(child);
      walk(child);
    }
  };
  walk('/');
  return out.sort();
}

export { hex };
