/**
 * The request pipeline:
 *
 *   per-session queue -> prep (validate against tree + in-flight changes)
 *   -> TxnHeader + txn -> commit path (standalone: store.append, fsync,
 *   group-committed by the store; a leader: a quorum of acks; see
 *   commit-path.ts) -> apply to the tree in zxid order -> watches fire -> reply.
 *
 * Appends are issued as soon as a write is prepped, without waiting for the
 * previous one, so many txns share an fsync; completion is then re-serialized
 * through `commitQueue`, which applies and replies strictly in zxid order.
 * Reads are answered from the tree in session order: a read waits until every
 * earlier request of its session has been answered, so a session always sees
 * its own writes.
 */
import type { Record as JuteRecord } from '../../jute/record';
import { Create2Response, CreateResponse, GetDataResponse, SetACLResponse, SetDataResponse } from '../../proto/generated/proto';
import { ErrorCode, OpCode } from '../../proto/constants';
import { Id } from '../../proto/generated/data';
import { TxnHeader } from '../../proto/generated/txn';
import { JuteWriter } from '../../jute';
import { decodeTxnBody } from '../persist/txn-codec';
import type { ForwardedRequest as RequestData } from '../quorum/quorum-wire';
import type { TxnEntry, TxnStore } from '../persist/types';
import type { SessionTracker } from '../session/session-tracker';
import { CONFIG_ZOOKEEPER, type DataTree, type TxnResult } from '../tree/data-tree';
import type { Watcher } from '../tree/watch-manager';
import { CommitPath, LeadershipLostError, localCommit, ZxidRolloverError, ZxidSource } from './commit-path';
import { PrepRequestProcessor, type PrepInput } from './prep-request-processor';
import { TxnApplier } from './txn-applier';
import { processRead } from './read-processor';
import { MultiResponse, decodeRequest, isValidOp, isWriteOp, type MultiOp, type OpResult } from './request-records';

/** The server side of a client connection, as the pipeline sees it. */
export interface ClientHandle extends Watcher {
  readonly sessionId: bigint;
  readonly authInfo: Id[];
  /**
   * Writes a reply frame (header, then body when err is 0 and a body is given).
   * `answered` names the request it answers, for latency and last-op figures.
   */
  sendResponse(xid: number, zxid: bigint, err: number, body: JuteRecord | null, answered?: { type: number; receivedAt: number }): void;
  /** The queue of this connection's requests not yet answered, oldest first. */
  readonly queue: QueuedRequest[];
  /**
   * How many requests at the head of `queue` were handed to the pipeline
   * (submitted writes always form a prefix: a read waits at the head), so a
   * pump starts where the last one stopped instead of rescanning the queue.
   */
  pumped: number;
  /** Called after the pipeline took requests off the queue (for back-pressure). */
  onQueueShrunk(): void;
  /** Called after the reply to closeSession was written. */
  onSessionClosed(): void;
  /** Drops the connection (a request that could not be processed or answered). */
  close(): void;
}

export interface QueuedRequest {
  xid: number;
  type: number;
  body: Buffer;
  submitted: boolean;
  /** elapsedMs() when the request was read off the socket. */
  receivedAt: number;
}

/** A client's write as a learner forwards it to its leader: REQUEST's data, and the connection's auth as its authinfo. */
export interface ForwardedRequest extends RequestData {
  authInfo: Id[];
}

/** A learner's link to its leader: writes are sent there instead of being prepped here. */
export interface WriteForwarder {
  forward(req: ForwardedRequest): void;
}

/** A forwarded write waiting for the leader's COMMIT of it (found by session id and cxid). */
interface Awaiting {
  owner: ClientHandle | null;
  xid: number;
  request: QueuedRequest | null;
  onApplied?: (rc: TxnResult) => void;
  onFailed?: (err: unknown) => void;
}

interface InFlight {
  header: TxnHeader;
  txn: JuteRecord;
  owner: ClientHandle | null;
  xid: number;
  /** The client request behind the txn (null for internal ones). */
  request: QueuedRequest | null;
  /** The txn as logged, until it is handed to the store. */
  body: Buffer | null;
  /** Set once the commit path committed it (standalone: on disk). */
  durable: boolean;
  /** Called after apply (before the reply is built). */
  onApplied?: (rc: TxnResult) => void;
  /** Called instead when the txn is never applied (store failure, leadership lost) or its apply threw. */
  onFailed?: (err: unknown) => void;
}

export interface PipelineDeps {
  tree: DataTree;
  sessions: SessionTracker;
  store: TxnStore;
  /** Applies committed txns (tree, sessions, snapshot scheduling); the server shares it with recovery. Default: tree and sessions only. */
  applier?: TxnApplier;
  /** What makes a txn committed; default localCommit(store) (standalone). */
  commit?: CommitPath;
  /** Where zxids come from; default counting on from the tree's last processed zxid. */
  zxids?: ZxidSource;
  extendedTypesEnabled: boolean;
  /** zoo.cfg reconfigEnabled and zookeeper.enforceQuota for this server (absent: the process defaults). */
  reconfigEnabled?: boolean;
  enforceQuota?: boolean;
  now?: () => number;
  /** A store failure: the server can no longer promise durability and must stop. */
  onFatal?: (err: unknown) => void;
  /** The zxid counter of the epoch is exhausted (a leader must end its term). */
  onZxidExhausted?: () => void;
  /** Diagnostics (unexpected errors while prepping or applying). */
  log?: (msg: string) => void;
}

/** What submitInternal rejects with, and the pipeline refuses new work with, after the store failed. */
export class PipelineFailedError extends Error {
  constructor(readonly storeError: unknown) {
    super(`txn store failed: ${(storeError as Error)?.message ?? String(storeError)}`);
    this.name = 'PipelineFailedError';
  }
}

export class RequestPipeline {
  readonly prep: PrepRequestProcessor;
  private commitQueue: InFlight[] = [];
  /** Txns prepped this turn, handed to the store together (one append, one promise) at the end of it. */
  private toAppend: InFlight[] = [];
  private appendQueued = false;
  private draining = false;
  private readonly zxids: ZxidSource;
  private commitPath: CommitPath;
  /** Set while this server is a learner: writes go to the leader. */
  private forwarder: WriteForwarder | null = null;
  /** Learner: forwarded writes per session, oldest first, until their COMMIT is applied. */
  private awaiting = new Map<bigint, Awaiting[]>();
  /**
   * The owner this server's own clients' requests carry (a leader's; see
   * PrepInput.owner). Undefined on a standalone server: nothing to check.
   */
  localOwner: unknown = undefined;
  /**
   * A read-only server (cut off from its quorum): reads are served, every
   * write and sync is answered NOTREADONLY in session order, and a
   * closeSession is done here by `closeLocally` (its sessions are local).
   */
  readOnly: { closeLocally: (sessionId: bigint) => void } | null = null;
  /** Learner: forwarded syncs, answered in order as the leader's SYNCs arrive (they carry no id). */
  private syncs: Awaiting[] = [];
  private readonly applier: TxnApplier;
  private failed: PipelineFailedError | null = null;
  /** Resolvers of idle() promises, settled when commitQueue empties or the store fails. */
  private idleWaiters: Array<() => void> = [];
  private readonly now: () => number;
  /** Counters for mntr/srvr. */
  stats = { packetsReceived: 0, packetsSent: 0, outstanding: 0 };

  constructor(private readonly deps: PipelineDeps) {
    this.prep = new PrepRequestProcessor(deps.tree, deps.sessions, {
      extendedTypesEnabled: deps.extendedTypesEnabled,
      reconfigEnabled: deps.reconfigEnabled,
      enforceQuota: deps.enforceQuota,
    });
    this.zxids = deps.zxids ?? new ZxidSource(deps.tree.lastProcessedZxid);
    this.commitPath = deps.commit ?? localCommit(deps.store);
    this.applier = deps.applier ?? new TxnApplier({ tree: deps.tree, sessions: deps.sessions, defaultSessionTimeout: 0 });
    this.now = deps.now ?? Date.now;
  }

  /** After recovery: continue numbering after the last zxid on disk. */
  resetZxid(zxid: bigint): void {
    this.zxids.reset(zxid);
  }

  /** The zxid source (a leader starts its epoch on it). */
  get zxidSource(): ZxidSource {
    return this.zxids;
  }

  /**
   * Standalone or leader: writes are prepped here and committed through
   * `commit`. Call with nothing in flight (after abandonInFlight()).
   */
  commitThrough(commit: CommitPath): void {
    this.forwarder = null;
    this.commitPath = commit;
  }

  /**
   * Learner: writes (and session creates) go to the leader through
   * `forwarder`; each is answered when applyCommitted() applies its txn.
   */
  forwardWritesTo(forwarder: WriteForwarder): void {
    this.forwarder = forwarder;
  }

  /**
   * A learner applies a txn the leader committed: in zxid order, through the
   * same apply path, and answers the client if the write came through us
   * (Apache's CommitProcessor matches a commit to its request by session id
   * and cxid).
   */
  applyCommitted(entry: TxnEntry): void {
    const { header } = entry;
    const list = this.awaiting.get(header.clientId);
    let waiter: Awaiting | undefined;
    if (list && list[0].xid === header.cxid) {
      waiter = list.shift();
      if (list.length === 0) this.awaiting.delete(header.clientId);
    }
    let txn: JuteRecord | null;
    try {
      txn = decodeTxnBody(header.type, entry.body);
    } catch (e) {
      txn = null;
      this.log(`committed txn 0x${header.zxid.toString(16)} does not decode: ${errText(e)}`);
    }
    this.applyAndReply({
      header,
      txn: txn as JuteRecord,
      owner: waiter?.owner ?? null,
      xid: header.cxid,
      request: waiter?.request ?? null,
      body: null,
      durable: true,
      onApplied: waiter?.onApplied,
      onFailed: waiter?.onFailed,
    });
  }

  /**
   * A learner got SYNC from its leader: every write committed before the
   * oldest forwarded sync is applied here (commits and SYNC arrive in order
   * on one stream), so that sync is answered now.
   */
  completeSync(): void {
    const w = this.syncs.shift();
    if (!w || !w.owner) return;
    const h = w.owner;
    const q = h.queue;
    const r = w.request!;
    try {
      if (q.length > 0 && q[0] === r) {
        q.shift();
        h.pumped--;
      }
      const res = processRead(this.deps.tree, h, r.type, decodeOrNull(r.type, r.body));
      h.sendResponse(r.xid, this.deps.tree.lastProcessedZxid, res.err, res.body, r);
      h.onQueueShrunk();
    } catch (e) {
      this.log(`closing session 0x${h.sessionId.toString(16)}: cannot answer sync xid ${r.xid}: ${errText(e)}`);
      h.close();
      return;
    }
    this.pump(h);
  }

  /** The last zxid handed out (>= the tree's lastProcessedZxid). */
  get highestZxid(): bigint {
    return this.zxids.lastZxid;
  }

  get inFlight(): number {
    return this.commitQueue.length;
  }

  /**
   * Resolves when every txn prepped so far has been applied, or was abandoned
   * because the store failed. Settled from drain()/fail(), not polled.
   */
  idle(): Promise<void> {
    if (this.commitQueue.length === 0 || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settleIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /**
   * Submits a write that has no client request behind it (session create from
   * a handshake, session expiry, container reaping). Returns the txn result
   * once applied.
   */
  submitInternal(input: PrepInput, owner: ClientHandle | null = null): Promise<TxnResult> {
    // A throw from submit (failed store, prep error) rejects the promise; a later store failure reaches onFailed.
    return new Promise((resolve, reject) => this.submit(input, owner, input.cxid, resolve, null, reject));
  }

  /** Takes requests off a connection's queue as far as session order allows. */
  pump(h: ClientHandle): void {
    const q = h.queue;
    let shrunk = false;
    for (let i = h.pumped; i < q.length; i++) {
      const r = q[i];
      if (!this.deps.sessions.isActive(h.sessionId)) {
        // Apache's submitRequest drops a request whose session is closing or gone (touch fails):
        // nothing after a closeSession, or after expiry, is executed or answered.
        q.splice(i, 1);
        i--;
        shrunk = true;
        continue;
      }
      if (this.readOnly && (isWriteOp(r.type) || r.type === OpCode.sync)) {
        if (i > 0) break; // answered in order, like a read
        q.shift();
        i--;
        shrunk = true;
        if (r.type === OpCode.closeSession) {
          this.readOnly.closeLocally(h.sessionId);
          h.sendResponse(r.xid, this.deps.tree.lastProcessedZxid, ErrorCode.OK, null, r);
          h.onSessionClosed();
          return;
        }
        // ReadOnlyRequestProcessor: NOTREADONLY with the tree's zxid.
        h.sendResponse(r.xid, this.deps.tree.lastProcessedZxid, ErrorCode.NOTREADONLY, null, r);
        continue;
      }
      if (isWriteOp(r.type)) {
        const record = decodeOrNull(r.type, r.body);
        // Apache's PrepRequestProcessor decodes a reconfig before it takes a zxid (every other write
        // takes its zxid first): an undecodable reconfig makes no txn and is answered MarshallingError
        // with the current zxid, like a read.
        if (!(r.type === OpCode.reconfig && record === null)) {
          try {
            this.submit({ sessionId: h.sessionId, cxid: r.xid, type: r.type, record, authInfo: h.authInfo, owner: this.localOwner }, h, r.xid, undefined, r, undefined, r.body);
          } catch (e) {
            // Not a KeeperError (those become ErrorTxns) or a failed store: the request cannot be
            // answered in order, so the connection goes, as for any other unexpected error.
            this.log(`closing session 0x${h.sessionId.toString(16)}: cannot process request xid ${r.xid} type ${r.type}: ${errText(e)}`);
            h.close();
            return;
          }
          r.submitted = true;
          h.pumped++;
          continue;
        }
      }
      if (i > 0) break; // a read waits for the writes before it
      if (r.type === OpCode.sync && this.forwarder) {
        // A learner's sync goes through the leader, so that the reply comes after every write committed before it.
        this.syncs.push({ owner: h, xid: r.xid, request: r });
        this.forwarder.forward({ sessionId: h.sessionId, cxid: r.xid, type: r.type, body: r.body, authInfo: [...h.authInfo] });
        r.submitted = true;
        h.pumped++;
        continue;
      }
      q.shift();
      i--;
      shrunk = true;
      try {
        this.answerRead(h, r);
      } catch (e) {
        this.log(`closing session 0x${h.sessionId.toString(16)}: cannot answer xid ${r.xid} type ${r.type}: ${errText(e)}`);
        h.close();
        return;
      }
    }
    if (shrunk) h.onQueueShrunk();
  }

  private answerRead(h: ClientHandle, r: QueuedRequest): void {
    if (!isValidOp(r.type)) {
      // An opcode Request.isValid does not know (999, -1, and 0, the notification opcode) gets
      // UNIMPLEMENTED with zxid -1, exactly Apache's reply. DELIBERATE DIFFERENCE (product decision,
      // issue 3: "Unknown opcodes get Unimplemented, not a dropped connection"): Apache's
      // UnimplementedRequestProcessor then closes the connection; we keep it open so a client probing
      // for a newer opcode carries on with its session. For that to work the reply comes in session
      // order, after the replies to the writes before it (a client checks xid order), which is why it
      // is answered here and not as soon as it is read. test/fuzz/server-fuzz.test.ts pins both sides.
      h.sendResponse(r.xid, -1n, ErrorCode.UNIMPLEMENTED, null, r);
      return;
    }
    const res = processRead(this.deps.tree, h, r.type, decodeOrNull(r.type, r.body));
    const xid = r.type === OpCode.ping ? -2 : r.xid;
    h.sendResponse(xid, this.deps.tree.lastProcessedZxid, res.err, res.body, r);
  }

  private submit(
    input: PrepInput,
    owner: ClientHandle | null,
    xid: number,
    onApplied?: (rc: TxnResult) => void,
    request: QueuedRequest | null = null,
    onFailed?: (err: unknown) => void,
    rawBody?: Buffer,
  ): void {
    if (this.failed) throw this.failed;
    if (this.forwarder) {
      const list = this.awaiting.get(input.sessionId) ?? [];
      list.push({ owner, xid, request, onApplied, onFailed });
      this.awaiting.set(input.sessionId, list);
      this.forwarder.forward({ sessionId: input.sessionId, cxid: input.cxid, type: input.type, body: rawBody ?? forwardedBody(input), authInfo: [...input.authInfo] });
      return;
    }
    // The zxid is taken only once prep succeeded (prep rolls back on a throw), so the log has no holes.
    let zxid: bigint;
    try {
      zxid = this.zxids.peek();
    } catch (e) {
      // The epoch's counter is used up: a leader must step down so that a new epoch starts (Apache forces an election).
      if (e instanceof ZxidRolloverError) this.deps.onZxidExhausted?.();
      throw e;
    }
    const prepared = this.prep.prepare(input, zxid, BigInt(this.now()));
    this.zxids.take(zxid);
    const item: InFlight = { header: prepared.header, txn: prepared.txn, owner, xid, request, body: prepared.body, durable: false, onApplied, onFailed };
    this.commitQueue.push(item);
    this.toAppend.push(item);
    if (!this.appendQueued) {
      this.appendQueued = true;
      process.nextTick(this.appendBatch);
    }
  }

  /** Commits everything prepped since the last call; the store group-commits these batches further across turns. */
  private readonly appendBatch = (): void => {
    this.appendQueued = false;
    const batch = this.toAppend;
    this.toAppend = [];
    if (batch.length === 0 || this.failed) return;
    const entries = batch.map((it) => ({ header: it.header, body: it.body! }));
    for (const it of batch) it.body = null;
    let appended: Promise<void>;
    try {
      appended = this.commitPath.commit(entries);
    } catch (err) {
      this.fail(err);
      return;
    }
    appended.then(
      () => {
        for (const it of batch) it.durable = true;
        this.drain();
      },
      (err) => (err instanceof LeadershipLostError ? this.abandonInFlight(err) : this.fail(err)),
    );
  };

  /** The store failed: nothing more is applied; every waiter is settled so no handshake or close() hangs. */
  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = new PipelineFailedError(err);
    this.dropInFlight(this.failed);
    this.deps.onFatal?.(err);
  }

  /**
   * Leadership was lost with txns in flight: none of them will be applied
   * here. Their callers are told, their clients' connections are dropped
   * (ConnectionLoss), the prep's pending view is discarded, and the pipeline
   * keeps working: call resetZxid() or zxids.startEpoch() for the next role.
   * Sessions that abandoned createSession/closeSession txns touched are left
   * to the next role, which rebuilds its session tracker from synced state.
   */
  abandonInFlight(reason: unknown = new LeadershipLostError('leadership lost')): void {
    if (this.failed) return;
    this.log(`abandoning ${this.commitQueue.length} txns in flight: ${errText(reason)}`);
    this.dropInFlight(reason);
    this.prep.discardOutstanding();
    this.zxids.reset(this.deps.tree.lastProcessedZxid);
  }

  private dropInFlight(reason: unknown): void {
    const abandoned: Array<Pick<InFlight, 'owner' | 'onFailed'>> = this.commitQueue;
    for (const list of this.awaiting.values()) abandoned.push(...list);
    abandoned.push(...this.syncs);
    this.awaiting.clear();
    this.syncs = [];
    this.commitQueue = [];
    this.toAppend = [];
    this.settleIdle();
    const owners = new Set<ClientHandle>();
    for (const it of abandoned) {
      if (it.owner) owners.add(it.owner);
      try {
        it.onFailed?.(reason);
      } catch (e) {
        this.log(`failure callback threw: ${errText(e)}`);
      }
    }
    // Their writes will never be answered: drop the connections rather than leave them waiting.
    for (const h of owners) h.close();
  }

  private log(msg: string): void {
    this.deps.log?.(msg);
  }

  /** Applies and answers, in zxid order, every txn at the head of the queue that is durable. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.commitQueue.length > 0 && this.commitQueue[0].durable) {
        const item = this.commitQueue.shift()!;
        this.applyAndReply(item);
      }
    } finally {
      this.draining = false;
    }
    if (this.commitQueue.length === 0) this.settleIdle();
  }

  /** Never throws: an unexpected error is logged and answered (or the connection dropped), and draining goes on. */
  private applyAndReply(item: InFlight): void {
    const { header } = item;
    let rc: TxnResult | null = null;
    try {
      rc = this.applier.apply(header, item.txn);
    } catch (e) {
      // Not a KeeperError (those become rc.err). The txn is logged, so the zxid counts as processed.
      this.log(`failed to apply txn 0x${header.zxid.toString(16)} type ${header.type} of session 0x${header.clientId.toString(16)}: ${errText(e)}`);
      try {
        item.onFailed?.(e);
      } catch (e2) {
        this.log(`failure callback threw: ${errText(e2)}`);
      }
    }
    this.prep.applied(header.zxid);
    try {
      if (rc) item.onApplied?.(rc);
    } catch (e) {
      this.log(`post-apply hook for txn 0x${header.zxid.toString(16)} threw: ${errText(e)}`);
    }
    const h = item.owner;
    if (!h) return;
    try {
      const q = h.queue;
      if (q.length > 0 && q[0].submitted && q[0].xid === item.xid) {
        q.shift();
        h.pumped--;
      }
      // FinalRequestProcessor answers a request it failed to process with MarshallingError.
      const { err, body } = rc ? replyFor(rc, header.type, this.deps.tree) : { err: ErrorCode.MARSHALLINGERROR, body: null };
      h.sendResponse(item.xid, header.zxid, err, body, item.request ?? undefined);
      if (header.type === OpCode.closeSession) {
        h.onSessionClosed();
        return;
      }
      h.onQueueShrunk();
    } catch (e) {
      this.log(`closing session 0x${h.sessionId.toString(16)}: cannot answer xid ${item.xid}: ${errText(e)}`);
      h.close();
      return;
    }
    this.pump(h);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The REQUEST body of an internal write a learner forwards (a session create carries its timeout). */
function forwardedBody(input: PrepInput): Buffer {
  if (input.type === OpCode.createSession) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(input.timeout ?? 0, 0);
    return b;
  }
  if (input.record === null || Array.isArray(input.record)) return Buffer.alloc(0);
  const w = new JuteWriter(64);
  input.record.serialize(w);
  return w.toBuffer();
}

/** The request's record, or null when its bytes do not decode (answered MarshallingError). */
function decodeOrNull(type: number, body: Buffer): ReturnType<typeof decodeRequest> {
  try {
    return decodeRequest(type, body);
  } catch {
    return null;
  }
}

/** FinalRequestProcessor's reply for an applied txn. */
export function replyFor(rc: TxnResult, type: number, tree?: DataTree): { err: number; body: JuteRecord | null } {
  if (type === OpCode.multi) {
    const results: OpResult[] = (rc.multiResult ?? []).map(toOpResult);
    return { err: 0, body: new MultiResponse(results) };
  }
  if (rc.err !== 0) return { err: rc.err, body: null };
  switch (type) {
    case OpCode.create:
      return { err: 0, body: new CreateResponse({ path: rc.path }) };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { err: 0, body: new Create2Response({ path: rc.path, stat: rc.stat }) };
    case OpCode.setData:
      return { err: 0, body: new SetDataResponse({ stat: rc.stat }) };
    case OpCode.setACL:
      return { err: 0, body: new SetACLResponse({ stat: rc.stat }) };
    case OpCode.reconfig:
      // The config now in force (QuorumPeer.getQuorumVerifier): the node the txn just wrote holds its text.
      return { err: 0, body: new GetDataResponse({ data: tree?.getNode(CONFIG_ZOOKEEPER)?.data ?? null, stat: rc.stat }) };
    default:
      return { err: 0, body: null };
  }
}

function toOpResult(sub: TxnResult): OpResult {
  switch (sub.type) {
    case OpCode.check:
      return { type: OpCode.check };
    case OpCode.create:
      return { type: OpCode.create, path: sub.path ?? '' };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type: OpCode.create2, path: sub.path ?? '', stat: sub.stat! };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: OpCode.delete };
    case OpCode.setData:
      return { type: OpCode.setData, stat: sub.stat! };
    case OpCode.error:
      return { type: OpCode.error, err: sub.err };
    default:
      return { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY };
  }
}

export type { MultiOp };
