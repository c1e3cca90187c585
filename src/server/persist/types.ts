/**
 * The seam between the request pipeline / data tree (src/server/tree,
 * src/server/request) and durable storage (src/server/persist).
 *
 * The pipeline turns a client request into a TxnHeader + txn record, hands it
 * to TxnStore.append, and only when that promise resolves (the entry is fsynced)
 * applies it to the tree and replies. On start, the server loads the newest
 * valid snapshot and replays the log entries after it.
 */
import type { ACL, StatPersisted, TxnDigest, TxnHeader } from '../../proto';

/**
 * One logged transaction: header plus the serialized txn body (CreateTxn, MultiTxn, ...).
 *
 * What Apache ZooKeeper 3.8 writes as the body for each TxnHeader.type
 * (PrepRequestProcessor; read back by SerializeUtils.deserializeTxn):
 *   createSession -10 -> CreateSessionTxn {int timeOut}
 *   closeSession  -11 -> CloseSessionTxn {vector<ustring> paths2Delete}: the
 *                        session's ephemeral paths (zookeeper.closeSessionTxn.enabled,
 *                        default true; an empty body is also accepted on read)
 *   create 1, create2 15 -> CreateTxn; createContainer 19 -> CreateContainerTxn;
 *   createTTL 21 -> CreateTTLTxn; delete 2, deleteContainer 20 -> DeleteTxn;
 *   setData 5, reconfig 16 -> SetDataTxn; setACL 7 -> SetACLTxn;
 *   multi 14 -> MultiTxn; error -1 -> ErrorTxn.
 * Observed in a real 3.8.0 log: `create2` requests are logged with type 15,
 * a client close is `closeSession v{'/z}` (its one ephemeral).
 */
export interface TxnEntry {
  /** Who, when, which zxid and which OpCode. */
  header: TxnHeader;
  /** The txn record's bytes as Apache writes them after the header (see above). */
  body: Buffer;
  /**
   * The TxnDigest Apache 3.6+ appends after the txn (zookeeper.digest.enabled,
   * default true): the tree digest AFTER applying this txn, version 2 (see
   * digest.ts). On read it is present when 12+ bytes follow the body. The
   * file store writes it only when given; Apache accepts entries without one
   * (it then skips the per-txn digest check).
   */
  digest?: TxnDigest | null;
}

/** The zxid digest a 3.6+ snapshot carries after its first seal (DataTree.ZxidDigest). */
export interface SnapshotDigest {
  /** The zxid the digest was taken at (0 = none recorded). */
  zxid: bigint;
  /** DigestCalculator version; 2 in 3.6-3.9. */
  version: number;
  /** The tree digest (sum of node digests) at `zxid`. */
  digest: bigint;
}

/** A node's persisted Stat fields: a decoded StatPersisted, or (fuzzy snapshots) the live node, read at once. */
export type SnapshotStat = Pick<StatPersisted, 'czxid' | 'mzxid' | 'pzxid' | 'ctime' | 'mtime' | 'version' | 'cversion' | 'aversion' | 'ephemeralOwner'>;

/** A node as stored in a snapshot (Apache's DataNode record: data, acl ref, StatPersisted). */
export interface SnapshotNode {
  /** The node's path; "" for the root. */
  path: string;
  /** The node's data; null for none. */
  data: Buffer | null;
  /** Reference into the snapshot's ACL cache (-1 = OPEN_ACL_UNSAFE convention is Apache's, keep as given). */
  aclRef: bigint;
  /** The node's stat as stored. */
  stat: SnapshotStat;
}

/**
 * Everything a snapshot holds, in Apache's order (DataTree.serialize):
 * - nodes come depth-first, every parent before its children, starting with
 *   the root, whose path is the EMPTY STRING "" (Apache keys the root as ""
 *   and builds child paths as parent + "/" + name, so they read "/a",
 *   "/a/b"); "/zookeeper", "/zookeeper/config" and "/zookeeper/quota" are
 *   ordinary nodes in the list. The "/" that follows the last node in the
 *   file is an end marker, not a node: never pass a node with path "/"
 *   except as the root (the writer maps a leading "/" to "").
 *   Verified on a snapshot written by Apache 3.8.0 (test fixture): "", "/a",
 *   "/a/b", "/a/seq-0000000001", "/zookeeper", "/zookeeper/config",
 *   "/zookeeper/quota", "/d", ...
 * - acls is the ReferenceCountedACLCache: ref -> ACL list; refs are what
 *   SnapshotNode.aclRef points at (Apache numbers them 1, 2, ...; -1 means
 *   OPEN_ACL_UNSAFE without an entry). Apache's root and /zookeeper nodes
 *   carry aclRef -1 in a fresh tree, /zookeeper/config carries the ref of
 *   READ_ACL_UNSAFE.
 * - the iterable is consumed asynchronously (the snapshot is written in
 *   time slices, yielding to the event loop between them), so pass either a
 *   stable copy captured synchronously at the snapshot's zxid, or a fuzzy
 *   source (`fuzzy` set: src/server/tree/fuzzy-snapshot.ts) that reads the
 *   live tree as it is consumed.
 */
export interface SnapshotContents {
  /** session id -> negotiated timeout (ms). */
  sessions: Map<bigint, number>;
  /** ACL cache: reference -> ACL list. */
  acls: Map<bigint, ACL[]>;
  /** Every node, parents first, the root (path "") first of all. */
  nodes: Iterable<SnapshotNode>;
  /**
   * The body's own bytes (sessions through the "/" after the last node),
   * when the contents arrived as a snapshot stream (a learner's SNAP): a
   * snapshot file of them is these bytes between a header and a seal, so the
   * writer copies them instead of serializing the nodes again.
   */
  rawBody?: Buffer | readonly Buffer[];
  /**
   * Set when `nodes` walks the live tree (a fuzzy snapshot, as Apache takes
   * them): the nodes then reflect txns after the snapshot's zxid, and the log
   * replayed from zxid + 1 makes the tree exact. The writer trusts its order
   * (parents first by construction) and writes the zxid digest only when
   * exact() says the walk saw no txn.
   */
  fuzzy?: FuzzySnapshotState;
}

/** The live side of a fuzzy snapshot source. */
export interface FuzzySnapshotState {
  /**
   * After `nodes` has been consumed to the end: whether no txn was applied
   * during the walk, so the nodes written are the tree at the snapshot's zxid
   * and their digest is the tree digest at that zxid.
   */
  exact(): boolean;
  /** While the walk runs: whether a txn was applied since it started (then the digest will not be written, so it need not be computed). */
  changed(): boolean;
  /** Makes the walk throw at its next node (a closing server): the writer then leaves no file. */
  abort(reason?: string): void;
}

/** Where a zxid sits in the txn log on disk (what Apache's TxnLogProposalIterator meets walking it): a leader's DIFF from disk. */
export interface TxnLogPosition {
  /** The zxid itself is logged. */
  found: boolean;
  /** The last logged zxid before it; -1n when the log starts at it. */
  before: bigint;
  /** The first logged zxid after it; undefined when the log ends at or before it. */
  after?: bigint;
}

/** What TxnStore.load read: the newest snapshot and the log after it. */
export interface LoadedState {
  /**
   * The newest valid snapshot, or null for an empty dataDir. A snapshot
   * written by Apache is fuzzy: it may already reflect some txns after its
   * zxid (the real 3.8.0 fixture's snapshot.15 holds the node created at
   * 0x16), so replay must tolerate NodeExists/NoNode like Apache does.
   * `digest` is the zxid digest stored in the file, when present.
   */
  snapshot:
    | (SnapshotContents & {
        /** The zxid the snapshot is exact at (its file name's). */
        zxid: bigint;
        /** Every node, parents first (decoded from the file as it is iterated). */
        nodes: Iterable<SnapshotNode>;
        /** The zxid digest stored in the file, when present. */
        digest?: SnapshotDigest | null;
      })
    | null;
  /** Log entries with zxid greater than the snapshot's, in zxid order, torn tail already cut. */
  txns: TxnEntry[];
  /** The last zxid on disk (snapshot or log), 0n when empty. */
  lastZxid: bigint;
}

/**
 * Durable storage of the txn log and snapshots, in Apache ZooKeeper's on-disk format.
 *
 * Start-up like Apache's (FileTxnSnapLog.restore + ZooKeeperServer.loadData):
 * load(); on an empty dataDir (snapshot null, no txns) write the initial tree
 * with snapshot(0n, tree) BEFORE the first append, as Apache writes
 * snapshot.0 on first start: Apache (and the file store) refuse a dataDir
 * that has log files but no snapshot.
 */
export interface TxnStore {
  /** Reads what is on disk. Cuts (truncates) a torn or corrupt log tail. */
  load(): Promise<LoadedState>;
  /** Appends entries; resolves once they are fsynced. Concurrent calls are group-committed. */
  append(entries: TxnEntry[]): Promise<void>;
  /**
   * Writes snapshot.<zxid> (zxid = last applied) atomically; rolls the log so
   * the next append starts a new file. `opts.urgent`: nothing else needs the
   * event loop or the disk meanwhile (a learner's sync snapshot, written
   * before it serves), so the file is written in one go, not paced.
   */
  snapshot(zxid: bigint, contents: SnapshotContents, opts?: { urgent?: boolean }): Promise<void>;
  /** Deletes old snapshots/logs, keeping the newest `retain` snapshots and the logs they need. */
  purge(retain: number): Promise<void>;
  /** Flushes and closes files. */
  close(): Promise<void>;
}

/** Takes a snapshot's nodes one by one as they are read (parents first); throws to refuse one. */
export interface SnapshotNodeSink {
  /** Takes one decoded node. */
  add(node: SnapshotNode): void;
  /**
   * The same from the record's bytes, when the sink can take them so (it
   * then makes no SnapshotNode): `path` as read, and at `buf[at]` the rest of
   * the record (data, ACL reference, StatPersisted), whole and bounds-checked.
   * Returns the offset after the record.
   */
  addRecord?(path: string, buf: Buffer, at: number): number;
}

/**
 * Nodes as a snapshot holds them: iterable, and, when they are a snapshot's
 * own bytes, able to hand a sink their records as they stand (feed), which
 * skips making a SnapshotNode per node.
 */
export interface SnapshotNodeSource extends Iterable<SnapshotNode> {
  /** Hands every node to `sink`, parents first, by `addRecord` where the sink has it. */
  feed?(sink: SnapshotNodeSink): void;
}
