/**
 * zookeeper-ts: the public API. The server lives at `zookeeper-ts/server`.
 *
 * The client: {@link ZooKeeper} (one session, a promise per call), its
 * errors ({@link KeeperError} and a subclass per code), multi() ops
 * ({@link Op}, {@link Transaction}), the wire's constants ({@link CreateMode},
 * {@link KeeperState}, {@link EventType}, {@link Perms}...) and records
 * ({@link Stat}, {@link ACL}), and ACL helpers.
 *
 * @example
 *   import { ZooKeeper, CreateMode, NodeExistsError } from 'zookeeper-ts';
 *   const zk = new ZooKeeper('127.0.0.1:2181');
 *   await zk.connected();
 *   await zk.create('/app', '', { mode: CreateMode.PERSISTENT }).catch((e) => {
 *     if (!(e instanceof NodeExistsError)) throw e;
 *   });
 *   await zk.close();
 *
 * @module zookeeper-ts
 */
import './client/stat-view';

export { ZooKeeper, Transaction } from './client/zookeeper';
export type { ZooKeeperOptions, AuthData, WatchArg, Create2Result, NodeData, ReconfigOptions } from './client/zookeeper';
export { Op } from './client/ops';
export type {
  Data,
  CreateOptions,
  OpResult,
  CreateResult,
  DeleteResult,
  SetDataResult,
  CheckResult,
  GetDataResult,
  GetChildrenResult,
  ErrorResult,
  CreateOp,
  DeleteOp,
  SetDataOp,
  CheckOp,
  GetDataOp,
  GetChildrenOp,
  MultiRunner,
} from './client/ops';
export type { Watcher, WatchedEvent } from './client/watch-manager';
export { stateName, eventTypeName } from './client/watched-event';
export type { SaslOptions } from './client/connection';
export * from './client/errors';
export { retry, isRetriable } from './client/retry';
export type { RetryOptions } from './client/retry';
export { parseConnectString } from './client/connect-string';
export type { ConnectString, HostAddress } from './client/connect-string';
export {
  OPEN_ACL_UNSAFE,
  CREATOR_ALL_ACL,
  READ_ACL_UNSAFE,
  makeAcl,
  makeDigestAcl,
  digestId,
  combinePerms,
  permsFromString,
  permsToString,
} from './client/acl';
export type { AclEntry, AclId, PermFlags } from './client/acl';

export {
  OpCode,
  Xid,
  ErrorCode,
  CreateMode,
  EventType,
  KeeperState,
  WatcherType,
  AddWatchMode,
  Perms,
  isSequential,
  isEphemeral,
  isTTL,
  isContainer,
  PROTOCOL_VERSION,
} from './proto/constants';
export { Ids } from './proto/ids';
export { Stat, ACL, Id, ClientInfo } from './proto/generated/data';
export type { StatFields, ACLFields, IdFields, ClientInfoFields } from './proto/generated/data';
export { pathProblem } from './proto/path';
