/**
 * The embedded ZooKeeper server (`zookeeper-ts/server`).
 *
 *   import { ZooKeeperServer } from 'zookeeper-ts/server';
 *   const srv = await ZooKeeperServer.start({ clientPort: 0 });
 *   // connect any ZooKeeper client to srv.connectString
 *   await srv.close();
 */
export { ZooKeeperServer } from './zookeeper-server';
export type { ServerOptions, SslOptions } from './zookeeper-server';
export { DataTree } from './tree/data-tree';
export { generateDigest } from './tree/acl-check';
export { KeeperCodeError } from './tree/keeper-error';
export { MemoryTxnStore } from './persist/memory-store';
export { DataDirLockedError } from './persist/data-dir-lock';
export type { TxnStore } from './persist/types';
