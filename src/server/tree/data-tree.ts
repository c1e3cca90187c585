/**
 * The in-memory znode tree, updated exactly as Apache's DataTree updates it,
 * because Stat fields, sequential names and snapshots must match Apache's
 * byte for byte. It is pure: no I/O, no clock (txn times come in the header).
 *
 * Two Apache details that are easy to get wrong and are kept here:
 * - the persisted cversion is the *create counter* (bumped by creates only,
 *   and it is what sequential suffixes use); the cversion a client sees is
 *   `2 * counter - numChildren` (DataNode.copyStat).
 * - the built-in nodes (/, /zookeeper, /zookeeper/quota, /zookeeper/config)
 *   start with all-zero stats, so the root reports cversion -1.
 */
import { ACL, Stat, StatPersisted } from '../../proto/generated/data';
import { CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateTTLTxn, CreateTxn, DeleteTxn, ErrorTxn, MultiTxn, SetACLTxn, SetDataTxn, TxnHeader } from '../../proto/generated/txn';
import { decodeTxnBody } from '../persist/txn-codec';
import { ErrorCode, EventType, OpCode } from '../../proto/constants';
import { Ids } from '../../proto/ids';
import { JuteReader } from '../../jute/reader';
import type { Record as JuteRecord } from '../../jute/record';
import type { SnapshotContents, SnapshotNode, SnapshotNodeSource } from '../persist/types';
import { AclCache, OPEN_UNSAFE_ACL_ID } from './acl-cache';
import { CONTAINER_EPHEMERAL_OWNER, ephemeralKind, ttlToEphemeralOwner } from './ephemeral-type';
import { KeeperCodeError, noNode } from './keeper-error';
import { WatchManager, WatcherMode, type Watcher } from './watch-manager';
import { DataNode, StatSlab, storedDataAt, type StatFields } from './data-node';
import { onNodeCreated, recomputeAllQuotaStats, updateQuotaStats } from './quota';

export const ROOT = '/';
export const PROC_ZOOKEEPER = '/zookeeper';
export const QUOTA_ZOOKEEPER = '/zookeeper/quota';
export const CONFIG_ZOOKEEPER = '/zookeeper/config';

/** Paths no client may delete (Apache's ZKDatabase.isSpecialPath). */
export function isSpecialPath(path: string): boolean {
  return path === ROOT || path === PROC_ZOOKEEPER || path === QUOTA_ZOOKEEPER || path === CONFIG_ZOOKEEPER;
}

/** Parent of an absolute path, "/" for top-level nodes. */
export function parentPathOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT : path.slice(0, i);
}

export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return new StatPersisted({ czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner });
}

export { DataNode, type StatFields } from './data-node';

export function copyStatPersisted(s: StatFields): StatPersisted {
  return new StatPersisted({
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    pzxid: s.pzxid,
  });
}

/** The outcome of applying one txn: what the reply needs (Apache's ProcessTxnResult). */
export interface TxnResult {
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
  multiResult?: TxnResult[];
}

/** Options of a {@link DataTree}. */
export interface DataTreeOptions {
  /** zookeeper.extendedTypesEnabled: read TTL-encoded owners as TTL nodes. */
  extendedTypesEnabled?: boolean;
}

/**
 * The in-memory znode tree of a server (Apache's DataTree): nodes, their
 * Stats and ACLs, ephemerals by session, and the watches on them. A running
 * server's is {@link ZooKeeperServer.tree}; read it to inspect what the
 * server holds. A new tree holds the built-in nodes: `/`, `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config`.
 *
 * The mutations are Apache's, applied as a committed txn applies them: they
 * take the txn's zxid and time and the *new* version, check nothing but the
 * node's existence, log nothing and do not replicate. A server's tree
 * changes only through requests; a tree of your own may be built with them.
 *
 * Paths are absolute server-side paths (no chroot). Failures throw a
 * KeeperCodeError carrying the ZooKeeper code (NONODE, NODEEXISTS).
 *
 * @example
 *   const tree = new DataTree();
 *   tree.createNode('/a', Buffer.from('x'), null, 0n, -1, 1n, BigInt(Date.now()), false);
 *   tree.getData('/a').stat.czxid; // 1n
 */
export class DataTree {
  /** @internal Every node by path (replaced whole when a snapshot is installed). */
  get nodes(): ReadonlyMap<string, DataNode> {
    return this.byPath;
  }
  private byPath = new Map<string, DataNode>();
  /** Where the nodes' Stats live (see data-node.ts). */
  private stats = new StatSlab();
  /** @internal */
  readonly aclCache = new AclCache();
  /** @internal */
  readonly dataWatches = new WatchManager();
  /** @internal */
  readonly childWatches = new WatchManager();
  /**
   * session id -> its ephemeral paths.
   * @internal
   */
  readonly ephemerals = new Map<bigint, Set<string>>();
  /** @internal */
  readonly containers = new Set<string>();
  /** @internal */
  readonly ttls = new Set<string>();
  /** The zxid of the last txn applied (what a server reports as its zxid; 0n for a new tree). */
  lastProcessedZxid = 0n;
  /** Whether TTL-encoded ephemeralOwner values are read as TTL nodes (option extendedTypesEnabled). */
  readonly extendedTypesEnabled: boolean;

  /** A tree holding only the built-in nodes. */
  constructor(opts: DataTreeOptions = {}) {
    this.extendedTypesEnabled = opts.extendedTypesEnabled ?? false;
    this.initBuiltins();
  }

  private newNode(data: Buffer | null, acl: bigint, stat: StatFields): DataNode {
    return new DataNode(this.stats, data, acl, stat);
  }

  private initBuiltins(): void {
    this.byPath.clear();
    const root = this.newNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_ID, new StatPersisted());
    this.byPath.set(ROOT, root);
    this.ensureBuiltinNodes();
  }

  /** Adds /zookeeper, /zookeeper/quota and /zookeeper/config when missing (fresh tree, or a snapshot without them). */
  private ensureBuiltinNodes(): void {
    const root = this.nodes.get(ROOT)!;
    if (!this.nodes.has(PROC_ZOOKEEPER)) {
      const proc = this.newNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_ID, new StatPersisted());
      root.addChild('zookeeper', proc);
      this.byPath.set(PROC_ZOOKEEPER, proc);
    }
    const proc = this.nodes.get(PROC_ZOOKEEPER)!;
    if (!this.nodes.has(QUOTA_ZOOKEEPER)) {
      const quota = this.newNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_ID, new StatPersisted());
      proc.addChild('quota', quota);
      this.byPath.set(QUOTA_ZOOKEEPER, quota);
    }
    if (!this.nodes.has(CONFIG_ZOOKEEPER)) {
      const config = this.newNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_ID, new StatPersisted());
      proc.addChild('config', config);
      this.byPath.set(CONFIG_ZOOKEEPER, config);
      // Apache: setACL(configZookeeper, READ_ACL_UNSAFE, -1), which also leaves aversion at -1.
      config.acl = this.aclCache.convertAcls(Ids.READ_ACL_UNSAFE);
      config.stat.aversion = -1;
    }
  }

  /** Whether any quota is set: the quota bookkeeping costs writes nothing while /zookeeper/quota is empty. */
  private hasQuotas(): boolean {
    return (this.nodes.get(QUOTA_ZOOKEEPER)?.children.size ?? 0) > 0;
  }

  /**
   * The node at `path`. Apache's DataTree keys the root under both "/" and ""
   * (the snapshot spelling), so a read of the empty path finds the root:
   * exists(""), getData(""), getChildren("") answer with the root's stat.
   * Writes never get here with "": their path validation refuses it first.
   * @internal
   */
  getNode(path: string): DataNode | undefined {
    return this.nodes.get(path === '' ? ROOT : path);
  }

  /** How many nodes the tree holds, the built-in ones included. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** @internal */
  aclForNode(node: DataNode): ACL[] {
    return this.aclCache.convertLong(node.acl);
  }

  /**
   * DataNode.copyStat: the client's view of a node.
   * @internal
   */
  statOf(node: DataNode): Stat {
    const s = node.stat;
    const numChildren = node.children.size;
    return new Stat({
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: (s.cversion * 2 - numChildren) | 0,
      aversion: s.aversion,
      ephemeralOwner: this.kindOf(s.ephemeralOwner) === 'NORMAL' ? s.ephemeralOwner : 0n,
      dataLength: node.dataLength,
      numChildren,
      pzxid: s.pzxid,
    });
  }

  /** @internal */
  kindOf(owner: bigint): ReturnType<typeof ephemeralKind> {
    return ephemeralKind(owner, this.extendedTypesEnabled);
  }

  // ---- reads (watch registration happens even when the node is missing, for exists) ----

  /**
   * The node's Stat, as exists() answers. A watcher is left even when the
   * node is missing (to see its creation); then throws NONODE.
   */
  statNode(path: string, watcher?: Watcher): Stat {
    const node = this.getNode(path);
    if (watcher) this.dataWatches.addWatch(path, watcher);
    if (!node) throw noNode(path);
    return this.statOf(node);
  }

  /** The node's data and Stat; a watcher sees its next data change or deletion. Throws NONODE (leaving no watch). */
  getData(path: string, watcher?: Watcher): {
    /** The node's data (a copy for small data; for large data the tree's own buffer: do not change it); null for none. */
    data: Buffer | null;
    /** The node's Stat. */
    stat: Stat;
  } {
    const node = this.getNode(path);
    if (!node) throw noNode(path);
    if (watcher) this.dataWatches.addWatch(path, watcher);
    return { data: node.data, stat: this.statOf(node) };
  }

  /** The node's children's names and its Stat; a watcher sees its next child change or deletion. Throws NONODE. */
  getChildren(path: string, watcher?: Watcher): {
    /** The children's names, in no particular order. */
    children: string[];
    /** The node's Stat. */
    stat: Stat;
  } {
    const node = this.getNode(path);
    if (!node) throw noNode(path);
    if (watcher) this.childWatches.addWatch(path, watcher);
    return { children: [...node.children], stat: this.statOf(node) };
  }

  /** The node's ACL and Stat. Throws NONODE. */
  getACL(path: string): {
    /** The node's ACL. */
    acl: ACL[];
    /** The node's Stat. */
    stat: Stat;
  } {
    const node = this.getNode(path);
    if (!node) throw noNode(path);
    return { acl: this.aclForNode(node), stat: this.statOf(node) };
  }

  /** Number of descendants at every depth (not counting the node itself). Throws NONODE. */
  getAllChildrenNumber(path: string): number {
    const node = this.getNode(path);
    if (!node) throw noNode(path);
    if (path === ROOT) return this.nodes.size - 1;
    // Apache counts the keys that start with path + "/": for "" that is every node but "", "/" (its second root key) included.
    if (path === '') return this.nodes.size;
    let n = 0;
    const stack = [path];
    while (stack.length) {
      const p = stack.pop()!;
      const nd = this.nodes.get(p);
      if (!nd) continue;
      for (const c of nd.children) {
        n++;
        stack.push(p === ROOT ? `/${c}` : `${p}/${c}`);
      }
    }
    return n;
  }

  /** The paths of a session's ephemeral nodes (a copy; empty for an unknown session). */
  getEphemerals(sessionId: bigint): Set<string> {
    return new Set(this.ephemerals.get(sessionId) ?? []);
  }

  // ---- mutations (Apache's createNode/deleteNode/setData/setACL) ----

  /**
   * Creates a node as a committed create txn does. `acl` null means
   * OPEN_ACL_UNSAFE; `ephemeralOwner` is a session id for an ephemeral node,
   * 0n for a persistent one (or the container/TTL markers); `parentCVersion`
   * -1 bumps the parent's cversion by one. Fires the node's and the parent's
   * watches. Returns the new node's Stat when `wantStat`. Throws NONODE when
   * the parent is missing, NODEEXISTS when the node exists.
   */
  createNode(path: string, data: Buffer | null, acl: ACL[] | null, ephemeralOwner: bigint, parentCVersion: number, zxid: bigint, time: bigint, wantStat: boolean): Stat | undefined {
    const parentName = parentPathOf(path);
    const childName = path.slice(path.lastIndexOf('/') + 1);
    const parent = this.nodes.get(parentName);
    if (!parent) throw noNode(path);
    if (parent.children.has(childName)) throw new KeeperCodeError(ErrorCode.NODEEXISTS, path);
    const aclRef = this.aclCache.convertAcls(acl);
    if (parentCVersion === -1) parentCVersion = parent.stat.cversion + 1;
    // A replay over a fuzzy snapshot may see a create whose effect is already there: never move cversion back.
    if (parentCVersion > parent.stat.cversion) {
      parent.stat.cversion = parentCVersion;
      parent.stat.pzxid = zxid;
    }
    const child = this.newNode(data, aclRef, createStat(zxid, time, ephemeralOwner));
    parent.addChild(childName, child);
    this.byPath.set(path, child);
    if (this.hasQuotas()) onNodeCreated(this, path, data?.length ?? 0);
    noteOwner(this, this.kindOf(ephemeralOwner), path, ephemeralOwner);
    const stat = wantStat ? this.statOf(child) : undefined;
    this.dataWatches.triggerWatch(path, EventType.NodeCreated, this.aclForNode(child));
    this.childWatches.triggerWatch(parentName, EventType.NodeChildrenChanged, this.aclForNode(parent));
    return stat;
  }

  /** Deletes a node (children are not checked: a txn was validated before) and fires its and its parent's watches. Throws NONODE. */
  deleteNode(path: string, zxid: bigint): void {
    const parentName = parentPathOf(path);
    const childName = path.slice(path.lastIndexOf('/') + 1);
    const parent = this.nodes.get(parentName);
    if (!parent || path === ROOT) throw noNode(path);
    // Apache moves the parent's pzxid even when the child is gone already (replaying a delete over a fuzzy snapshot).
    parent.removeChild(childName);
    if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
    const node = this.nodes.get(path);
    if (!node) throw noNode(path);
    this.byPath.delete(path);
    node.detach();
    if (this.hasQuotas()) updateQuotaStats(this, path, -1, -node.dataLength);
    // The watchers of the deleted node check its ACL as it was (Apache reads it before removing the node).
    const acl = this.aclForNode(node);
    this.aclCache.removeUsage(node.acl);
    const owner = node.stat.ephemeralOwner;
    const kind = this.kindOf(owner);
    if (kind === 'CONTAINER') this.containers.delete(path);
    else if (kind === 'TTL') this.ttls.delete(path);
    else if (owner !== 0n) {
      const set = this.ephemerals.get(owner);
      if (set) {
        set.delete(path);
        if (set.size === 0) this.ephemerals.delete(owner);
      }
    }
    const processed = this.dataWatches.triggerWatch(path, EventType.NodeDeleted, acl);
    this.childWatches.triggerWatch(path, EventType.NodeDeleted, acl, processed);
    this.childWatches.triggerWatch(parentName, EventType.NodeChildrenChanged, this.aclForNode(parent));
  }

  /**
   * Sets a node's data, with `version` as its new version (not an expected
   * one) and zxid/time as its mzxid/mtime; fires its data watches. Returns
   * the new Stat. Throws NONODE.
   */
  setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: bigint): Stat {
    const node = this.nodes.get(path);
    if (!node) throw noNode(path);
    if (this.hasQuotas()) updateQuotaStats(this, path, 0, (data?.length ?? 0) - node.dataLength);
    node.data = data;
    node.stat.mtime = time;
    node.stat.mzxid = zxid;
    node.stat.version = version;
    const stat = this.statOf(node);
    this.dataWatches.triggerWatch(path, EventType.NodeDataChanged, this.aclForNode(node));
    return stat;
  }

  /** Replaces a node's ACL, with `version` as its new aversion. Returns the new Stat. Throws NONODE. */
  setACL(path: string, acl: ACL[], version: number): Stat {
    const node = this.nodes.get(path);
    if (!node) throw noNode(path);
    node.stat.aversion = version;
    this.aclCache.removeUsage(node.acl);
    node.acl = this.aclCache.convertAcls(acl);
    return this.statOf(node);
  }

  /** Deletes a closed session's ephemerals (firing their watches): the txn's list first, then anything else the tree still knows of. */
  killSession(sessionId: bigint, zxid: bigint, pathsInTxn: string[] | null): void {
    const local = this.ephemerals.get(sessionId);
    this.ephemerals.delete(sessionId);
    const remaining = new Set(local ?? []);
    for (const p of pathsInTxn ?? []) {
      remaining.delete(p);
      this.deleteQuietly(p, zxid);
    }
    for (const p of remaining) this.deleteQuietly(p, zxid);
  }

  private deleteQuietly(path: string, zxid: bigint): void {
    try {
      this.deleteNode(path, zxid);
    } catch (e) {
      if (!(e instanceof KeeperCodeError)) throw e;
    }
  }

  // ---- txn application (request/txn-applier.ts calls this for live txns, recovery and sync) ----

  /**
   * DataTree.processTxn: applies one txn, never throws a KeeperCodeError (it becomes `err`).
   * @internal
   */
  processTxn(header: TxnHeader, txn: JuteRecord | null, isSubTxn = false): TxnResult {
    const rc: TxnResult = { clientId: header.clientId, cxid: header.cxid, zxid: header.zxid, type: header.type, err: 0 };
    try {
      switch (header.type) {
        case OpCode.create: {
          const t = txn as CreateTxn;
          rc.path = t.path;
          this.createNode(t.path, t.data, t.acl, t.ephemeral ? header.clientId : 0n, t.parentCVersion, header.zxid, header.time, false);
          break;
        }
        case OpCode.create2: {
          const t = txn as CreateTxn;
          rc.path = t.path;
          rc.stat = this.createNode(t.path, t.data, t.acl, t.ephemeral ? header.clientId : 0n, t.parentCVersion, header.zxid, header.time, true);
          break;
        }
        case OpCode.createTTL: {
          const t = txn as CreateTTLTxn;
          rc.path = t.path;
          rc.stat = this.createNode(t.path, t.data, t.acl, ttlToEphemeralOwner(t.ttl), t.parentCVersion, header.zxid, header.time, true);
          break;
        }
        case OpCode.createContainer: {
          const t = txn as CreateContainerTxn;
          rc.path = t.path;
          rc.stat = this.createNode(t.path, t.data, t.acl, CONTAINER_EPHEMERAL_OWNER, t.parentCVersion, header.zxid, header.time, true);
          break;
        }
        case OpCode.delete:
        case OpCode.deleteContainer: {
          const t = txn as DeleteTxn;
          rc.path = t.path;
          this.deleteNode(t.path, header.zxid);
          break;
        }
        case OpCode.setData:
        case OpCode.reconfig: {
          const t = txn as SetDataTxn;
          rc.path = t.path;
          rc.stat = this.setData(t.path, t.data, t.version, header.zxid, header.time);
          break;
        }
        case OpCode.setACL: {
          const t = txn as SetACLTxn;
          rc.path = t.path;
          rc.stat = this.setACL(t.path, t.acl, t.version);
          break;
        }
        case OpCode.closeSession:
          this.killSession(header.clientId, header.zxid, txn ? (txn as CloseSessionTxn).paths2Delete : null);
          break;
        case OpCode.error:
          rc.err = (txn as ErrorTxn).err;
          break;
        case OpCode.check:
          rc.path = (txn as CheckVersionTxn).path;
          break;
        case OpCode.multi:
          this.processMulti(header, txn as MultiTxn, rc);
          break;
        default:
          // createSession and unknown types change nothing in the tree.
          break;
      }
    } catch (e) {
      if (!(e instanceof KeeperCodeError)) throw e;
      rc.err = e.code;
      if (header.type === OpCode.create && e.code === ErrorCode.NODEEXISTS) this.adjustParentAfterReplayedCreate(txn as CreateTxn, header.zxid);
    }
    if (!isSubTxn && header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = header.zxid;
    return rc;
  }

  /**
   * Replaying a create over a fuzzy snapshot that already holds the node (a
   * session's ephemeral deleted and re-created by another session while the
   * snapshot was written): Apache still moves the parent's cversion/pzxid
   * forward to the txn's (DataTree.processTxn + setCversionPzxid), and only
   * for OpCode.create; we do the same so both servers load the same tree.
   */
  private adjustParentAfterReplayedCreate(t: CreateTxn, zxid: bigint): void {
    const parent = this.nodes.get(parentPathOf(t.path));
    if (!parent) return;
    const cversion = t.parentCVersion === -1 ? parent.stat.cversion + 1 : t.parentCVersion;
    if (cversion > parent.stat.cversion) {
      parent.stat.cversion = cversion;
      parent.stat.pzxid = zxid;
    }
  }

  private processMulti(header: TxnHeader, multi: MultiTxn, rc: TxnResult): void {
    rc.multiResult = [];
    const failed = multi.txns.some((t) => t.type === OpCode.error);
    let postFailed = false;
    for (const sub of multi.txns) {
      let type = sub.type;
      let record: JuteRecord | null;
      if (type === OpCode.error) {
        record = new ErrorTxn().deserialize(new JuteReader(sub.data ?? Buffer.alloc(0)));
        postFailed = true;
      } else if (failed) {
        // In a failed multi every op is reported as an error: OK before the failure, RUNTIMEINCONSISTENCY after.
        record = new ErrorTxn({ err: postFailed ? ErrorCode.RUNTIMEINCONSISTENCY : ErrorCode.OK });
        type = OpCode.error;
      } else {
        record = decodeTxnBody(type, sub.data ?? Buffer.alloc(0));
      }
      const subHeader = new TxnHeader({ clientId: header.clientId, cxid: header.cxid, zxid: header.zxid, time: header.time, type });
      const subRc = this.processTxn(subHeader, record, true);
      rc.multiResult.push(subRc);
      if (subRc.err !== 0 && rc.err === 0) rc.err = subRc.err;
    }
  }

  // ---- watches ----

  /** Adds a persistent watch (`mode` AddWatchMode: 0 PERSISTENT, 1 PERSISTENT_RECURSIVE) that stays until removed. */
  addWatch(path: string, mode: number, watcher: Watcher): void {
    const m = mode === 1 ? WatcherMode.PERSISTENT_RECURSIVE : WatcherMode.PERSISTENT;
    this.dataWatches.addWatch(path, watcher, m);
    this.childWatches.addWatch(path, watcher, m);
  }

  /**
   * DataTree.setWatches: re-registers a reconnecting client's watches and
   * fires at once what it missed since relativeZxid.
   * @internal
   */
  setWatches(
    relativeZxid: bigint,
    w: { data: string[]; exist: string[]; child: string[]; persistent?: string[]; persistentRecursive?: string[] },
    watcher: Watcher,
  ): void {
    const fire = (type: number, path: string): void => watcher.process({ type, state: 3, path });
    for (const path of w.data) {
      const node = this.nodes.get(path);
      if (!node) fire(EventType.NodeDeleted, path);
      else if (node.stat.mzxid > relativeZxid) fire(EventType.NodeDataChanged, path);
      else this.dataWatches.addWatch(path, watcher);
    }
    for (const path of w.exist) {
      if (this.nodes.has(path)) fire(EventType.NodeCreated, path);
      else this.dataWatches.addWatch(path, watcher);
    }
    for (const path of w.child) {
      const node = this.nodes.get(path);
      if (!node) fire(EventType.NodeDeleted, path);
      else if (node.stat.pzxid > relativeZxid) fire(EventType.NodeChildrenChanged, path);
      else this.childWatches.addWatch(path, watcher);
    }
    for (const path of w.persistent ?? []) this.addWatch(path, 0, watcher);
    for (const path of w.persistentRecursive ?? []) this.addWatch(path, 1, watcher);
  }

  /** Removes every watch of a watcher, of every kind and on every path (its connection closed). */
  removeWatcherEverywhere(watcher: Watcher): void {
    this.dataWatches.removeAll(watcher);
    this.childWatches.removeAll(watcher);
  }

  // ---- snapshots ----

  /**
   * A consistent copy of the tree for a snapshot, taken synchronously (so no
   * txn can interleave); node data buffers are shared because the tree
   * replaces, never mutates, a node's data.
   */
  snapshotContents(sessions: Map<bigint, number>): SnapshotContents & {
    /** Every node, parents first, the root as "". */
    nodes: SnapshotNode[];
  } {
    const out: SnapshotNode[] = [];
    const stack: string[] = [ROOT];
    while (stack.length) {
      const path = stack.pop()!;
      const node = this.nodes.get(path)!;
      out.push({ path: path === ROOT ? '' : path, data: node.data, aclRef: node.acl, stat: copyStatPersisted(node.stat) });
      const kids = [...node.children].reverse();
      for (const c of kids) stack.push(path === ROOT ? `/${c}` : `${path}/${c}`);
    }
    return { sessions: new Map(sessions), acls: this.aclCache.snapshot(), nodes: out };
  }

  /**
   * Replaces the tree with a snapshot's nodes (parents first, root as "")
   * and ACLs; `zxid` becomes lastProcessedZxid. Watches are kept. Throws an
   * Error when a node comes before its parent.
   */
  loadSnapshot(contents: { acls: Map<bigint, ACL[]>; nodes: SnapshotNodeSource }, zxid: bigint): void {
    const load = this.beginLoad(contents.acls);
    // A snapshot's own node list hands over its records' bytes (the start-up path for a big tree).
    if (contents.nodes.feed) contents.nodes.feed(load);
    else for (const sn of contents.nodes) load.add(sn);
    this.install(load, zxid);
  }

  /**
   * A tree built apart from this one, node by node, for install(): a
   * learner builds the leader's SNAP while it is still arriving, and this
   * tree stays as it was until the whole snapshot is in and checked.
   * @internal
   */
  beginLoad(acls: Map<bigint, ACL[]>): SnapshotLoad {
    return new SnapshotLoad(acls, (owner) => this.kindOf(owner));
  }

  /**
   * Makes a finished load this tree's contents, at `zxid`. Watches are kept.
   * @internal
   */
  install(load: SnapshotLoad, zxid: bigint): void {
    this.byPath = load.nodes;
    // The load's own slab: a node of the old tree still held somewhere keeps reading its own values.
    this.stats = load.stats;
    // Few entries, and others hold these sets: refilled, not replaced.
    this.ephemerals.clear();
    for (const [owner, paths] of load.ephemerals) this.ephemerals.set(owner, paths);
    this.containers.clear();
    for (const p of load.containers) this.containers.add(p);
    this.ttls.clear();
    for (const p of load.ttls) this.ttls.add(p);
    this.aclCache.load(load.acls);
    for (const [ref, uses] of load.aclUses) this.aclCache.addUsage(ref, uses);
    if (!this.byPath.has(ROOT)) this.byPath.set(ROOT, this.newNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_ID, new StatPersisted()));
    this.aclCache.purgeUnused();
    this.ensureBuiltinNodes();
    // Apache's setupQuota: the usage texts on disk are recomputed, never trusted.
    recomputeAllQuotaStats(this);
    this.lastProcessedZxid = zxid;
  }

  /** Approximate bytes of paths + data, like Apache's approximateDataSize (for mntr). */
  approximateDataSize(): number {
    let n = 0;
    for (const [p, node] of this.nodes) n += p.length + node.dataLength;
    return n;
  }
}

/** Files a new node under what its ephemeralOwner makes it: a container, a TTL node, or a session's ephemeral. */
function noteOwner(
  into: { containers: Set<string>; ttls: Set<string>; ephemerals: Map<bigint, Set<string>> },
  kind: ReturnType<typeof ephemeralKind>,
  path: string,
  owner: bigint,
): void {
  if (kind === 'CONTAINER') into.containers.add(path);
  else if (kind === 'TTL') into.ttls.add(path);
  else if (owner !== 0n) {
    let set = into.ephemerals.get(owner);
    if (!set) into.ephemerals.set(owner, (set = new Set()));
    set.add(path);
  }
}

/** The open ACL's reference as a node holds it (a number). */
const OPEN_UNSAFE_ACL_NUMBER = Number(OPEN_UNSAFE_ACL_ID);
/** A StatPersisted record's bytes: six longs and three ints. */
const STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4;

/**
 * The nodes of a snapshot as they are read (parents first, the root as ""),
 * built into a node index of their own; DataTree.install() makes them the
 * tree. Throws an Error when a node comes before its parent.
 */
export class SnapshotLoad {
  /** @internal */ readonly nodes = new Map<string, DataNode>();
  /** @internal */ readonly stats = new StatSlab();
  /** @internal */ readonly ephemerals = new Map<bigint, Set<string>>();
  /** @internal */ readonly containers = new Set<string>();
  /** @internal */ readonly ttls = new Set<string>();
  /** @internal ACL reference -> how many nodes use it. */
  readonly aclUses = new Map<bigint, number>();
  private lastParentPath = '';
  private lastParent: DataNode | undefined;

  /** @internal */
  constructor(
    /** The snapshot's ACL cache. */
    readonly acls: Map<bigint, ACL[]>,
    private readonly kindOf: (owner: bigint) => ReturnType<typeof ephemeralKind>,
  ) {}

  /** Adds the next node. */
  add(sn: SnapshotNode): void {
    const node = new DataNode(this.stats, sn.data, sn.aclRef, sn.stat);
    // The record's own values, not the node's accessors (each of which would build a new bigint).
    this.place(sn.path, node, sn.stat.ephemeralOwner, sn.aclRef);
  }

  /**
   * Adds the next node from its record as a snapshot stores it: `path`
   * (read already), then at `buf[at]` the data, the ACL reference and the
   * StatPersisted. Builds no bigint for a field that needs none (the Stat
   * goes straight into the slab): a SNAP of a million nodes comes this way.
   * Returns the offset after the record.
   */
  addRecord(path: string, buf: Buffer, at: number): number {
    const len = buf.readInt32BE(at);
    let p = at + 4;
    const data = storedDataAt(buf, p, len);
    if (len > 0) p += len;
    // ACL references are small counters (or -1): a bigint only for one that is not.
    const hi = buf.readInt32BE(p);
    const lo = buf.readInt32BE(p + 4);
    const acl = (hi === 0 && lo >= 0) || (hi === -1 && lo < 0) ? lo : buf.readBigInt64BE(p);
    const statAt = p + 8;
    const node = new DataNode(this.stats, data, acl, this.stats.allocEncoded(buf, statAt));
    const owner = buf.readInt32BE(statAt + 44) === 0 && buf.readInt32BE(statAt + 48) === 0 ? 0n : buf.readBigInt64BE(statAt + 44);
    this.place(path, node, owner, acl);
    return statAt + STAT_PERSISTED_BYTES;
  }

  private place(snapshotPath: string, node: DataNode, owner: bigint, acl: bigint | number): void {
    const path = snapshotPath === '' ? ROOT : snapshotPath;
    if (path !== ROOT) {
      const slash = path.lastIndexOf('/');
      // Siblings come one after another in a snapshot: the last parent found is tried first, which
      // spares most nodes a parent-path slice and a Map lookup (a 1M-node load spends its time here).
      let parent: DataNode | undefined;
      if (this.lastParent !== undefined && slash === this.lastParentPath.length && path.startsWith(this.lastParentPath)) parent = this.lastParent;
      else {
        const parentPath = slash <= 0 ? ROOT : path.slice(0, slash);
        parent = this.nodes.get(parentPath);
        if (!parent) throw new Error(`snapshot node ${path} comes before its parent`);
        this.lastParentPath = slash <= 0 ? '' : parentPath;
        this.lastParent = parent;
      }
      parent.addChild(path.slice(slash + 1), node);
      if (owner !== 0n) noteOwner(this, this.kindOf(owner), path, owner);
    }
    this.nodes.set(path, node);
    if (acl !== OPEN_UNSAFE_ACL_NUMBER && acl !== OPEN_UNSAFE_ACL_ID) {
      const ref = BigInt(acl);
      this.aclUses.set(ref, (this.aclUses.get(ref) ?? 0) + 1);
    }
  }
}
