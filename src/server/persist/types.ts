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

/** One logged transaction: header plus the serialized txn body (CreateTxn, MultiTxn, ...). */
export interface TxnEntry {
  header: TxnHeader;
  /** The txn record's bytes as Apache writes them after the header (empty for e.g. closeSession with no body). */
  body: Buffer;
  /** Optional digest that Apache 3.6+ appends after the txn when digests are enabled. */
  digest?: TxnDigest | null;
}

/** A node as stored in a snapshot (Apache's DataNode record: data, acl ref, StatPersisted). */
export interface SnapshotNode {
  path: string;
  data: Buffer | null;
  /** Reference into the snapshot's ACL cache (-1 = OPEN_ACL_UNSAFE convention is Apache's, keep as given). */
  aclRef: bigint;
  stat: StatPersisted;
}

/** Everything a snapshot holds. Nodes come parents-first, starting with "" (the root) as Apache writes it. */
export interface SnapshotContents {
  /** session id -> negotiated timeout (ms). */
  sessions: Map<bigint, number>;
  /** ACL cache: reference -> ACL list. */
  acls: Map<bigint, ACL[]>;
  nodes: Iterable<SnapshotNode>;
}

export interface LoadedState {
  /** The newest valid snapshot, or null for an empty dataDir. */
  snapshot: (SnapshotContents & { zxid: bigint; nodes: SnapshotNode[] }) | null;
  /** Log entries with zxid greater than the snapshot's, in zxid order, torn tail already cut. */
  txns: TxnEntry[];
  /** The last zxid on disk (snapshot or log), 0n when empty. */
  lastZxid: bigint;
}

/** Durable storage of the txn log and snapshots, in Apache ZooKeeper's on-disk format. */
export interface TxnStore {
  /** Reads what is on disk. Cuts (truncates) a torn or corrupt log tail. */
  load(): Promise<LoadedState>;
  /** Appends entries; resolves once they are fsynced. Concurrent calls are group-committed. */
  append(entries: TxnEntry[]): Promise<void>;
  /** Writes snapshot.<zxid> (zxid = last applied) atomically; rolls the log so the next append starts a new file. */
  snapshot(zxid: bigint, contents: SnapshotContents): Promise<void>;
  /** Deletes old snapshots/logs, keeping the newest `retain` snapshots and the logs they need. */
  purge(retain: number): Promise<void>;
  /** Flushes and closes files. */
  close(): Promise<void>;
}
