/**
 * zookeeper-ts: the public API. The server lives at `zookeeper-ts/server`.
 */
export { ZooKeeper, Transaction } from './client/zookeeper';
export type { ZooKeeperOptions, WatchArg, Create2Result, ReconfigOptions } from './client/zookeeper';
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
export type { SaslOptions } from './client/connection';
export * from './client/errors';
export { retry, isRetriable } from './client/retry';
export type { RetryOptions } from './client/retry';
export { parseConnectString } from './client/connect-string';
export type { ConnectString, HostAddress } from './client/connect-string';
export { DigestMd5Client, digestMd5Response } from './client/sasl/digest-md5';

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
export { Stat, ACL, Id, ClientInfo } from './proto/generated';
export { pathProblem } from './proto/path';
