/**
 * zookeeper-ts: the public API. The server lives at `zookeeper-ts/server`.
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
