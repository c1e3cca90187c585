/**
 * The embedded ZooKeeper server (`zookeeper-ts/server`).
 *
 *   import { ZooKeeperServer } from 'zookeeper-ts/server';
 *   const srv = await ZooKeeperServer.start({ clientPort: 0 });
 *   // connect any ZooKeeper client to srv.connectString
 *   await srv.close();
 *
 * @module zookeeper-ts/server
 */
export { ZooKeeperServer } from './zookeeper-server';
export type { ServerOptions, SslOptions, ServerRole, DurabilityStats } from './zookeeper-server';
export type { TxnLogStats } from './persist/txn-log-writer';
export { DataTree } from './tree/data-tree';
export type { DataTreeOptions } from './tree/data-tree';
export type { Watcher as TreeWatcher, WatchedEvent as TreeWatchedEvent } from './tree/watch-manager';
export { generateDigest } from './tree/acl-check';
export { KeeperCodeError } from './tree/keeper-error';
export { MemoryTxnStore } from './persist/memory-store';
export { DataDirLockedError } from './persist/data-dir-lock';
export type { LockOwner } from './persist/data-dir-lock';
export type { TxnStore, TxnEntry, LoadedState, SnapshotContents, SnapshotNode, SnapshotStat, SnapshotDigest, FuzzySnapshotState, SnapshotNodeSource, SnapshotNodeSink } from './persist/types';
// The records the store's types carry (the client's Stat, ACL and Id are in the package index).
export type { TxnHeader, TxnHeaderFields, TxnDigest, TxnDigestFields } from '../proto/generated/txn';
export type { StatPersisted, StatPersistedFields } from '../proto/generated/data';
