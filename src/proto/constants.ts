/**
 * Numbers of the ZooKeeper wire protocol that are not records: opcodes,
 * special xids, error codes, create modes, event types and states.
 * Values are Apache ZooKeeper 3.9's (ZooDefs.OpCode, KeeperException.Code, ...).
 *
 * The tables a user logs (KeeperState, EventType, WatcherType, CreateMode,
 * AddWatchMode) also map a value back to its name, as a TypeScript enum does:
 * `KeeperState[3] === 'SyncConnected'`. The reverse keys are not enumerable,
 * so Object.keys/values/entries still list each name once.
 */

/** The value -> name half of a named table. */
export interface ValueNames {
  readonly [value: number]: string;
}

/** Adds the value -> name keys to a name -> value table without changing what it enumerates. */
function withNames<T extends { readonly [name: string]: number }>(table: T): T & ValueNames {
  for (const [name, value] of Object.entries(table)) {
    Object.defineProperty(table, value, { value: name, enumerable: false, writable: false, configurable: false });
  }
  return Object.freeze(table) as T & ValueNames;
}

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Reserved xids: replies with these are not answers to numbered requests. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

export const ErrorCode = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CreateMode_VALUES = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;
type CreateModeValues = typeof CreateMode_VALUES;
/** CreateMode values by name, and (not enumerable) names by value: `CreateMode[value]`. */
export interface CreateModeTable extends CreateModeValues, ValueNames {}
export const CreateMode: CreateModeTable = withNames(CreateMode_VALUES);
export type CreateMode = (typeof CreateMode_VALUES)[keyof typeof CreateMode_VALUES];

export function isSequential(mode: number): boolean {
  return mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}
export function isEphemeral(mode: number): boolean {
  return mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
}
export function isTTL(mode: number): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}
export function isContainer(mode: number): boolean {
  return mode === CreateMode.CONTAINER;
}

const EventType_VALUES = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;
type EventTypeValues = typeof EventType_VALUES;
/** EventType values by name, and (not enumerable) names by value: `EventType[value]`. */
export interface EventTypeTable extends EventTypeValues, ValueNames {}
export const EventType: EventTypeTable = withNames(EventType_VALUES);
export type EventType = (typeof EventType_VALUES)[keyof typeof EventType_VALUES];

const KeeperState_VALUES = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;
type KeeperStateValues = typeof KeeperState_VALUES;
/** KeeperState values by name, and (not enumerable) names by value: `KeeperState[value]`. */
export interface KeeperStateTable extends KeeperStateValues, ValueNames {}
export const KeeperState: KeeperStateTable = withNames(KeeperState_VALUES);
export type KeeperState = (typeof KeeperState_VALUES)[keyof typeof KeeperState_VALUES];

const WatcherType_VALUES = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;
type WatcherTypeValues = typeof WatcherType_VALUES;
/** WatcherType values by name, and (not enumerable) names by value: `WatcherType[value]`. */
export interface WatcherTypeTable extends WatcherTypeValues, ValueNames {}
export const WatcherType: WatcherTypeTable = withNames(WatcherType_VALUES);
export type WatcherType = (typeof WatcherType_VALUES)[keyof typeof WatcherType_VALUES];

const AddWatchMode_VALUES = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;
type AddWatchModeValues = typeof AddWatchMode_VALUES;
/** AddWatchMode values by name, and (not enumerable) names by value: `AddWatchMode[value]`. */
export interface AddWatchModeTable extends AddWatchModeValues, ValueNames {}
export const AddWatchMode: AddWatchModeTable = withNames(AddWatchMode_VALUES);
export type AddWatchMode = (typeof AddWatchMode_VALUES)[keyof typeof AddWatchMode_VALUES];

/** ACL permission bits (ZooDefs.Perms); combine with `|` or `combinePerms` (client/acl.ts). */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  /** READ | WRITE | CREATE | DELETE | ADMIN. */
  ALL: 31,
} as const;

/** Quorum packet types (ZAB). */
export const QuorumPacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;

/** The protocol version field of ConnectRequest/Response. */
export const PROTOCOL_VERSION = 0;
