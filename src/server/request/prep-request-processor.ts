/**
 * Turns a write request into a txn, validating it against the tree *as it
 * will be* once every txn already in flight is applied. That is Apache's
 * PrepRequestProcessor with its outstanding ChangeRecords: because we append
 * to the log while earlier appends are still being fsynced, a create must see
 * the parent's cversion as bumped by the creates before it, a delete must see
 * a node created a moment ago, and so on.
 *
 * A request that fails validation still becomes a txn (an ErrorTxn with its
 * own zxid), exactly as Apache logs it; the reply then carries that zxid.
 */
import { JuteWriter } from '../../jute/writer';
import { type Record as JuteRecord } from '../../jute/record';
import { ACL, Id, StatPersisted } from '../../proto/generated/data';
import { CheckVersionRequest, CreateRequest, CreateTTLRequest, DeleteRequest, ReconfigRequest, SetACLRequest, SetDataRequest } from '../../proto/generated/proto';
import { CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn, CreateTxn, DeleteTxn, ErrorTxn, MultiTxn, SetACLTxn, SetDataTxn, Txn, TxnHeader } from '../../proto/generated/txn';
import { CreateMode, ErrorCode, OpCode, Perms, isContainer, isEphemeral, isSequential, isTTL } from '../../proto/constants';
import { pathProblem, sequenceSuffix } from '../../proto/path';
import { checkAcl, fixupAcl } from '../tree/acl-check';
import { nextConfig } from '../quorum/dynamic-config';
import type { QuorumVerifier } from '../quorum/quorum-verifier';
import { CONFIG_ZOOKEEPER, DataTree, ROOT, copyStatPersisted, createStat, isSpecialPath, type StatFields } from '../tree/data-tree';
import { checkQuota } from '../tree/quota';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner, validTtl } from '../tree/ephemeral-type';
import { KeeperCodeError, badArguments, noNode } from '../tree/keeper-error';
import type { SessionTracker } from '../session/session-tracker';
import type { MultiOp } from './request-records';

/** A pending view of one path: what the tree will hold once txn `zxid` is applied (stat null = deleted). */
export interface ChangeRecord {
  zxid: bigint;
  path: string;
  stat: StatFields | null;
  childCount: number;
  acl: ACL[] | null;
  data: Buffer | null;
}

export interface PrepInput {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** The decoded request; null when it could not be decoded (becomes MARSHALLINGERROR). */
  record: JuteRecord | MultiOp[] | null;
  authInfo: readonly Id[];
  /**
   * createSession only: the negotiated timeout. Only the server's handshake
   * sets it; a createSession a client sends inside its session comes without
   * one and is refused (see bodilessTxn).
   */
  timeout?: number;
  /**
   * Who sent it, in an ensemble's leader: the learner it came through, or
   * the leader's own clients (SessionTracker owners). A session used through
   * another owner than the one it last revalidated with fails SESSIONMOVED.
   * Undefined (standalone) checks nothing.
   */
  owner?: unknown;
}

export interface PreparedTxn {
  header: TxnHeader;
  txn: JuteRecord;
  body: Buffer;
  /** The validation failure, when the txn is an ErrorTxn (multi failures are reported per op instead). */
  error?: KeeperCodeError;
}

/**
 * What a leader lends its prep for a reconfig (Apache's `lzks.self` and
 * `lzks.getLeader()`): the configs and who is synced. Only a leader has one;
 * without it a reconfig is Unimplemented (standalone, as Apache).
 */
export interface ReconfigContext {
  /** The committed config (QuorumPeer.getQuorumVerifier). */
  current(): QuorumVerifier;
  /** The newest config proposed, the committed one when none is pending (getLastSeenQuorumVerifier). */
  lastSeen(): QuorumVerifier;
  /** Leader.isQuorumSynced: the leader (when a voter of qv) and qv's synced followers make a quorum of qv. */
  isQuorumSynced(qv: QuorumVerifier): boolean;
}

export interface PrepOptions {
  extendedTypesEnabled: boolean;
  /**
   * zoo.cfg reconfigEnabled. A standalone server answers a reconfig with
   * ReconfigDisabled (-123) when false and Unimplemented (-6) when true,
   * exactly as Apache 3.8 standalone does. Default: the process setting.
   */
  reconfigEnabled?: boolean;
  /** zookeeper.enforceQuota: hard quota limits refuse writes with QuotaExceeded. Default: the process setting. */
  enforceQuota?: boolean;
}

/**
 * Process-wide defaults for the options above. Apache keeps both in the JVM
 * (the zookeeper.enforceQuota system property, QuorumPeerConfig's static
 * reconfigEnabled). A server started from a zoo.cfg (zk-server, npm start,
 * toServerOptions) names both in its own options, which win over these.
 */
const processSettings: { reconfigEnabled: boolean; enforceQuota: boolean } = { reconfigEnabled: false, enforceQuota: false };

/** Sets the process-wide reconfigEnabled / enforceQuota defaults (what zk-server reads from zoo.cfg). */
export function setPrepProcessSettings(settings: Partial<typeof processSettings>): void {
  if (settings.reconfigEnabled !== undefined) processSettings.reconfigEnabled = settings.reconfigEnabled;
  if (settings.enforceQuota !== undefined) processSettings.enforceQuota = settings.enforceQuota;
}

const VALID_FLAGS = new Set<number>(Object.values(CreateMode));

function encode(rec: JuteRecord): Buffer {
  const w = new JuteWriter(64);
  rec.serialize(w);
  return w.toBuffer();
}

/** checkAndIncVersion (3.8): -1 matches anything; the new version is current + 1 in int arithmetic. */
function checkAndIncVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperCodeError(ErrorCode.BADVERSION, path);
  return (current + 1) | 0;
}

function validatePath(path: string): void {
  if (pathProblem(path) !== null) throw badArguments(path);
}

/** getParentPathAndValidate: needs a slash, no NUL, and never one of the built-in nodes. */
function parentForDelete(path: string): string {
  const i = path.lastIndexOf('/');
  if (i === -1 || path.includes('\0') || isSpecialPath(path)) throw badArguments(path);
  return i === 0 ? ROOT : path.slice(0, i);
}

/**
 * The txns whose request has no body to decode: closeSession, and the
 * createSession of a handshake. A createSession opcode sent by a client on an
 * established session is not one: Apache's pRequest2Txn reads the timeout
 * from the (empty) body, fails, and logs an ErrorTxn(MarshallingError) with
 * its own zxid; we refuse it the same way whatever its body holds (Apache,
 * given a readable body, would re-run session init on the connection).
 */
function bodilessTxn(input: PrepInput): boolean {
  return input.type === OpCode.closeSession || (input.type === OpCode.createSession && input.timeout !== undefined);
}

export class PrepRequestProcessor {
  /** In prep order (= zxid order). */
  private outstanding: ChangeRecord[] = [];
  private byPath = new Map<string, ChangeRecord>();
  /** Set while this server leads an ensemble with reconfig possible (see ReconfigContext). */
  reconfig: ReconfigContext | null = null;
  /** While prepping a multi: the map values the multi replaced, for rollback. */
  private multiUndo: Map<string, ChangeRecord | undefined> | null = null;
  /** While prepping any request: the map values it replaced, to undo it if prep throws unexpectedly. */
  private txnUndo: Map<string, ChangeRecord | undefined> | null = null;

  constructor(
    private readonly tree: DataTree,
    private readonly sessions: SessionTracker,
    private readonly opts: PrepOptions,
  ) {}

  get outstandingCount(): number {
    return this.outstanding.length;
  }

  /** FinalRequestProcessor's cleanup: forget change records the tree now reflects. */
  applied(zxid: bigint): void {
    let n = 0;
    while (n < this.outstanding.length && this.outstanding[n].zxid <= zxid) {
      const cr = this.outstanding[n];
      if (this.byPath.get(cr.path) === cr) this.byPath.delete(cr.path);
      n++;
    }
    if (n > 0) this.outstanding.splice(0, n);
  }

  /** Forgets every pending change: the txns in flight were abandoned (leadership lost) and will never be applied. */
  discardOutstanding(): void {
    this.outstanding = [];
    this.byPath.clear();
  }

  private getRecordForPath(path: string): ChangeRecord {
    let cr = this.byPath.get(path);
    if (!cr) {
      const node = this.tree.getNode(path);
      if (node) {
        cr = { zxid: -1n, path, stat: node.stat, childCount: node.children.size, acl: this.tree.aclForNode(node), data: node.data };
      }
    }
    if (!cr || cr.stat === null) throw noNode(path);
    return cr;
  }

  private addChangeRecord(cr: ChangeRecord): void {
    if (this.multiUndo && !this.multiUndo.has(cr.path)) this.multiUndo.set(cr.path, this.byPath.get(cr.path));
    if (this.txnUndo && !this.txnUndo.has(cr.path)) this.txnUndo.set(cr.path, this.byPath.get(cr.path));
    this.outstanding.push(cr);
    this.byPath.set(cr.path, cr);
  }

  private duplicate(cr: ChangeRecord, zxid: bigint): ChangeRecord {
    return { zxid, path: cr.path, stat: cr.stat ? copyStatPersisted(cr.stat) : null, childCount: cr.childCount, acl: cr.acl, data: cr.data };
  }

  /**
   * Builds the txn for a write request (never throws a KeeperCodeError: failures become ErrorTxn).
   * Any other throw leaves no change record behind, so the caller may reuse `zxid` for the next txn.
   */
  prepare(input: PrepInput, zxid: bigint, time: bigint): PreparedTxn {
    const mark = this.outstanding.length;
    const undo = new Map<string, ChangeRecord | undefined>();
    this.txnUndo = undo;
    try {
      return this.prepareTxn(input, zxid, time);
    } catch (e) {
      this.outstanding.length = mark;
      for (const [path, prev] of undo) {
        if (prev === undefined) this.byPath.delete(path);
        else this.byPath.set(path, prev);
      }
      throw e;
    } finally {
      this.txnUndo = null;
      this.multiUndo = null;
    }
  }

  private prepareTxn(input: PrepInput, zxid: bigint, time: bigint): PreparedTxn {
    const header = new TxnHeader({ clientId: input.sessionId, cxid: input.cxid, zxid, time, type: input.type });
    if (input.type === OpCode.multi) return this.prepareMulti(input, header);
    try {
      if (input.record === null && !bodilessTxn(input)) throw new KeeperCodeError(ErrorCode.MARSHALLINGERROR);
      const txn = this.pRequest2Txn(input.type, header, input, input.record as JuteRecord);
      return { header, txn, body: encode(txn) };
    } catch (e) {
      if (!(e instanceof KeeperCodeError)) throw e;
      header.type = OpCode.error;
      const txn = new ErrorTxn({ err: e.code });
      return { header, txn, body: encode(txn), error: e };
    }
  }

  private prepareMulti(input: PrepInput, header: TxnHeader): PreparedTxn {
    const ops = input.record as MultiOp[] | null;
    if (ops === null) {
      header.type = OpCode.error;
      const txn = new ErrorTxn({ err: ErrorCode.MARSHALLINGERROR });
      return { header, txn, body: encode(txn), error: new KeeperCodeError(ErrorCode.MARSHALLINGERROR) };
    }
    const mark = this.outstanding.length;
    this.multiUndo = new Map();
    const txns: Txn[] = [];
    let failed: KeeperCodeError | null = null;
    try {
      for (const op of ops) {
        let type: number;
        let txn: JuteRecord;
        if (failed) {
          type = OpCode.error;
          txn = new ErrorTxn({ err: ErrorCode.RUNTIMEINCONSISTENCY });
        } else {
          try {
            txn = this.pRequest2Txn(op.type, header, input, op.record);
            type = op.type;
          } catch (e) {
            if (!(e instanceof KeeperCodeError)) throw e;
            failed = e;
            type = OpCode.error;
            txn = new ErrorTxn({ err: e.code });
            this.rollback(mark);
          }
        }
        txns.push(new Txn({ type, data: encode(txn) }));
      }
    } finally {
      this.multiUndo = null;
    }
    const txn = new MultiTxn({ txns });
    return { header, txn, body: encode(txn) };
  }

  private rollback(mark: number): void {
    this.outstanding.length = mark;
    for (const [path, prev] of this.multiUndo ?? []) {
      if (prev === undefined) this.byPath.delete(path);
      else this.byPath.set(path, prev);
    }
    this.multiUndo = new Map();
  }

  private pRequest2Txn(type: number, header: TxnHeader, input: PrepInput, record: JuteRecord): JuteRecord {
    const zxid = header.zxid;
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        return this.prepCreate(type, header, input, record as CreateRequest | CreateTTLRequest);
      case OpCode.deleteContainer: {
        const path = (record as DeleteRequest).path;
        const parentPath = parentForDelete(path);
        const node = this.getRecordForPath(path);
        if (node.childCount > 0) throw new KeeperCodeError(ErrorCode.NOTEMPTY, path);
        if (this.tree.kindOf(node.stat!.ephemeralOwner) === 'NORMAL') throw new KeeperCodeError(ErrorCode.BADVERSION, path);
        const parent = this.duplicate(this.getRecordForPath(parentPath), zxid);
        parent.childCount--;
        parent.stat!.pzxid = zxid;
        this.addChangeRecord(parent);
        this.addChangeRecord({ zxid, path, stat: null, childCount: -1, acl: null, data: null });
        return new DeleteTxn({ path });
      }
      case OpCode.delete: {
        this.sessions.checkSession(input.sessionId, input.owner);
        const req = record as DeleteRequest;
        const path = req.path;
        const parentPath = parentForDelete(path);
        const parentRec = this.getRecordForPath(parentPath);
        checkAcl(parentRec.acl, Perms.DELETE, input.authInfo);
        const node = this.getRecordForPath(path);
        checkAndIncVersion(node.stat!.version, req.version, path);
        if (node.childCount > 0) throw new KeeperCodeError(ErrorCode.NOTEMPTY, path);
        const parent = this.duplicate(parentRec, zxid);
        parent.childCount--;
        parent.stat!.pzxid = zxid;
        this.addChangeRecord(parent);
        this.addChangeRecord({ zxid, path, stat: null, childCount: -1, acl: null, data: null });
        return new DeleteTxn({ path });
      }
      case OpCode.setData: {
        this.sessions.checkSession(input.sessionId, input.owner);
        const req = record as SetDataRequest;
        const path = req.path;
        validatePath(path);
        const rec = this.getRecordForPath(path);
        checkAcl(rec.acl, Perms.WRITE, input.authInfo);
        // Apache checks the quota before the version (PrepRequestProcessor, setData).
        this.checkQuota(path, (req.data?.length ?? 0) - (rec.data?.length ?? 0), 0);
        const newVersion = checkAndIncVersion(rec.stat!.version, req.version, path);
        const next = this.duplicate(rec, zxid);
        next.stat!.version = newVersion;
        next.stat!.mtime = header.time;
        next.stat!.mzxid = zxid;
        next.data = req.data;
        this.addChangeRecord(next);
        return new SetDataTxn({ path, data: req.data, version: newVersion });
      }
      case OpCode.setACL: {
        this.sessions.checkSession(input.sessionId, input.owner);
        const req = record as SetACLRequest;
        const path = req.path;
        validatePath(path);
        const acl = fixupAcl(path, input.authInfo, req.acl);
        const rec = this.getRecordForPath(path);
        checkAcl(rec.acl, Perms.ADMIN, input.authInfo);
        const newVersion = checkAndIncVersion(rec.stat!.aversion, req.version, path);
        const next = this.duplicate(rec, zxid);
        next.stat!.aversion = newVersion;
        next.acl = acl;
        this.addChangeRecord(next);
        return new SetACLTxn({ path, acl, version: newVersion });
      }
      case OpCode.check: {
        this.sessions.checkSession(input.sessionId, input.owner);
        const req = record as CheckVersionRequest;
        validatePath(req.path);
        const rec = this.getRecordForPath(req.path);
        checkAcl(rec.acl, Perms.READ, input.authInfo);
        return new CheckVersionTxn({ path: req.path, version: checkAndIncVersion(rec.stat!.version, req.version, req.path) });
      }
      case OpCode.reconfig:
        return this.prepReconfig(header, input, record as ReconfigRequest);
      case OpCode.createSession: {
        const timeout = input.timeout ?? 0;
        this.sessions.addSession(input.sessionId, timeout);
        if (input.owner !== undefined) this.sessions.setOwner(input.sessionId, input.owner);
        return new CreateSessionTxn({ timeOut: timeout });
      }
      case OpCode.closeSession: {
        const es = this.tree.getEphemerals(input.sessionId);
        for (const c of this.outstanding) {
          if (c.stat === null) es.delete(c.path);
          else if (c.stat.ephemeralOwner === input.sessionId) es.add(c.path);
        }
        for (const p of es) this.addChangeRecord({ zxid, path: p, stat: null, childCount: 0, acl: null, data: null });
        this.sessions.setSessionClosing(input.sessionId);
        return new CloseSessionTxn({ paths2Delete: [...es] });
      }
      default:
        // Reads and unknown types inside a multi: Apache leaves them without a txn; we refuse them.
        throw new KeeperCodeError(ErrorCode.BADARGUMENTS);
    }
  }

  /**
   * PrepRequestProcessor's reconfig case, check for check in Apache's order
   * (the ACL last: bad input from anyone is BadArguments, not NoAuth). The
   * txn is a SetDataTxn of /zookeeper/config holding the new config's text,
   * whose version is this txn's zxid; the node's version becomes -1.
   */
  private prepReconfig(header: TxnHeader, input: PrepInput, req: ReconfigRequest): JuteRecord {
    const zxid = header.zxid;
    if (!(this.opts.reconfigEnabled ?? processSettings.reconfigEnabled)) throw new KeeperCodeError(ErrorCode.RECONFIGDISABLED);
    this.sessions.checkSession(input.sessionId, input.owner);
    const ctx = this.reconfig;
    // Standalone: reconfiguration is not supported (Apache answers the same).
    if (!ctx) throw new KeeperCodeError(ErrorCode.UNIMPLEMENTED);
    const lastSeen = ctx.lastSeen();
    // One at a time: Apache compares the configs, which change only at proposal; a reconfig prepped
    // here and not yet proposed or applied still holds /zookeeper/config's change record.
    const pending = this.byPath.get(CONFIG_ZOOKEEPER);
    if (lastSeen.version !== ctx.current().version || (pending !== undefined && pending.zxid >= 0n)) {
      throw new KeeperCodeError(ErrorCode.RECONFIGINPROGRESS);
    }
    if (req.curConfigId !== -1n && req.curConfigId !== lastSeen.version) throw new KeeperCodeError(ErrorCode.BADVERSION);
    // The generated record reads a null string as "": both mean "absent" here.
    const qv = nextConfig(
      lastSeen,
      { joiningServers: req.joiningServers || null, leavingServers: req.leavingServers || null, newMembers: req.newMembers || null },
      zxid,
    );
    if (!ctx.isQuorumSynced(qv)) throw new KeeperCodeError(ErrorCode.NEWCONFIGNOQUORUM);
    const rec = this.getRecordForPath(CONFIG_ZOOKEEPER);
    checkAcl(rec.acl, Perms.WRITE, input.authInfo);
    const data = Buffer.from(qv.toString(), 'utf8');
    const next = this.duplicate(rec, zxid);
    next.stat!.version = -1;
    next.stat!.mtime = header.time;
    next.stat!.mzxid = zxid;
    next.data = data;
    this.addChangeRecord(next);
    return new SetDataTxn({ path: CONFIG_ZOOKEEPER, data, version: -1 });
  }

  /** zookeeper.enforceQuota: refuse a write that takes a quota'd subtree over a hard limit (see tree/quota.ts). */
  private checkQuota(path: string, bytesDiff: number, countDiff: number): void {
    if (!(this.opts.enforceQuota ?? processSettings.enforceQuota)) return;
    // The data tree keeps zookeeper_stats current, so usage is read from it as Apache does (no subtree walk).
    checkQuota(this.tree, path, bytesDiff, countDiff, { trustStatsNode: true });
  }

  private prepCreate(type: number, header: TxnHeader, input: PrepInput, req: CreateRequest | CreateTTLRequest): JuteRecord {
    const zxid = header.zxid;
    const flags = req.flags;
    const ttl = req instanceof CreateTTLRequest ? req.ttl : -1n;
    let path = req.path;
    if (!VALID_FLAGS.has(flags)) throw badArguments(path);
    // validateCreateRequest
    if (isTTL(flags) && !this.opts.extendedTypesEnabled) throw new KeeperCodeError(ErrorCode.UNIMPLEMENTED);
    if (isTTL(flags) ? !validTtl(ttl) : ttl >= 0n) throw badArguments(path);
    this.sessions.checkSession(input.sessionId, input.owner);
    // validatePathForCreate
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0')) throw badArguments(path);
    const parentPath = lastSlash === 0 ? ROOT : path.slice(0, lastSlash);
    const acl = fixupAcl(path, input.authInfo, req.acl);
    const parentRec = this.getRecordForPath(parentPath);
    checkAcl(parentRec.acl, Perms.CREATE, input.authInfo);
    const parentCVersion = parentRec.stat!.cversion;
    if (isSequential(flags)) path = path + sequenceSuffix(parentCVersion);
    validatePath(path);
    const existing = this.byPath.get(path);
    if ((existing && existing.stat !== null) || (!existing && this.tree.getNode(path))) throw new KeeperCodeError(ErrorCode.NODEEXISTS, path);
    if (this.tree.kindOf(parentRec.stat!.ephemeralOwner) === 'NORMAL') throw new KeeperCodeError(ErrorCode.NOCHILDRENFOREPHEMERALS, path);
    this.checkQuota(path, req.data?.length ?? 0, 1);
    const newCversion = (parentRec.stat!.cversion + 1) | 0;
    let txn: JuteRecord;
    if (type === OpCode.createContainer) txn = new CreateContainerTxn({ path, data: req.data, acl, parentCVersion: newCversion });
    else if (type === OpCode.createTTL) txn = new CreateTTLTxn({ path, data: req.data, acl, parentCVersion: newCversion, ttl });
    else txn = new CreateTxn({ path, data: req.data, acl, ephemeral: isEphemeral(flags), parentCVersion: newCversion });
    let owner = 0n;
    if (isContainer(flags)) owner = CONTAINER_EPHEMERAL_OWNER;
    else if (isTTL(flags)) owner = ttlToEphemeralOwner(ttl);
    else if (isEphemeral(flags)) owner = input.sessionId;
    const parent = this.duplicate(parentRec, zxid);
    parent.childCount++;
    parent.stat!.cversion = newCversion;
    parent.stat!.pzxid = zxid;
    this.addChangeRecord(parent);
    this.addChangeRecord({ zxid, path, stat: createStat(zxid, header.time, owner), childCount: 0, acl, data: req.data });
    return txn;
  }
}
