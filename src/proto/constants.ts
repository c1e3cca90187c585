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

/**
 * Request opcodes (ZooDefs.OpCode): the `type` of a RequestHeader, of a
 * MultiHeader and of a logged txn. Names as in Java.
 * @enum
 */
export const OpCode = {
  /** A watch notification (the opcode of replies with xid -1). */
  notification: 0,
  /** Create a node (reply: its path). */
  create: 1,
  /** Delete a node. */
  delete: 2,
  /** Read a node's Stat; may leave a watch. */
  exists: 3,
  /** Read a node's data and Stat; may leave a watch. */
  getData: 4,
  /** Set a node's data. */
  setData: 5,
  /** Read a node's ACL. */
  getACL: 6,
  /** Set a node's ACL. */
  setACL: 7,
  /** List a node's children; may leave a watch. */
  getChildren: 8,
  /** Wait until the server has caught up with the leader. */
  sync: 9,
  /** Keep the session alive (xid -2). */
  ping: 11,
  /** List a node's children, with its Stat. */
  getChildren2: 12,
  /** Check a node's version (inside a multi). */
  check: 13,
  /** Apply several write ops atomically. */
  multi: 14,
  /** Create a node (reply: its path and Stat). */
  create2: 15,
  /** Change the ensemble membership. */
  reconfig: 16,
  /** Ask whether the session has a watch on a path. */
  checkWatches: 17,
  /** Remove watches from a path. */
  removeWatches: 18,
  /** Create a container node. */
  createContainer: 19,
  /** Delete an empty container (issued by the server itself). */
  deleteContainer: 20,
  /** Create a TTL node. */
  createTTL: 21,
  /** Read several nodes in one round trip. */
  multiRead: 22,
  /** Add credentials to the session (xid -4). */
  auth: 100,
  /** Re-register watches after a reconnect (xid -8). */
  setWatches: 101,
  /** One SASL round. */
  sasl: 102,
  /** List the session's ephemeral nodes. */
  getEphemerals: 103,
  /** Count a node's descendants. */
  getAllChildrenNumber: 104,
  /** Re-register watches, persistent ones included, after a reconnect (xid -8). */
  setWatches2: 105,
  /** Add a persistent or persistent-recursive watch. */
  addWatch: 106,
  /** List the session's identities. */
  whoAmI: 107,
  /** A session creation (logged txn; clients send a ConnectRequest). */
  createSession: -10,
  /** Close the session. */
  closeSession: -11,
  /** An error result inside a multi response (or a failed txn in the log). */
  error: -1,
} as const;
/** An OpCode value. */
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/**
 * Reserved xids: replies with these are not answers to numbered requests.
 * @enum
 */
export const Xid = {
  /** A watch notification. */
  notification: -1,
  /** A ping and its reply. */
  ping: -2,
  /** An auth packet and its reply. */
  auth: -4,
  /** setWatches / setWatches2 and the reply. */
  setWatches: -8,
} as const;

/**
 * The wire's error codes (KeeperException.Code); each non-zero one has a
 * KeeperError subclass (`NONODE` -> NoNodeError).
 * @enum
 */
export const ErrorCode = {
  /** Success. */
  OK: 0,
  /** A server-side error with no more specific code (base of the system errors). */
  SYSTEMERROR: -1,
  /** A runtime inconsistency was found. */
  RUNTIMEINCONSISTENCY: -2,
  /** A data inconsistency was found. */
  DATAINCONSISTENCY: -3,
  /** The connection to the server was lost before the reply; the op may or may not have been applied. */
  CONNECTIONLOSS: -4,
  /** A request or reply could not be encoded or decoded. */
  MARSHALLINGERROR: -5,
  /** The operation is not implemented by the server. */
  UNIMPLEMENTED: -6,
  /** The operation timed out. */
  OPERATIONTIMEOUT: -7,
  /** Invalid arguments (a bad path, mode, TTL...). */
  BADARGUMENTS: -8,
  /** A reconfig: the new configuration has no quorum of connected, synced followers. */
  NEWCONFIGNOQUORUM: -13,
  /** Another reconfig is in progress. */
  RECONFIGINPROGRESS: -14,
  /** The session is not known to the server. */
  UNKNOWNSESSION: -12,
  /** An API error (base of the API errors). */
  APIERROR: -100,
  /** The node does not exist. */
  NONODE: -101,
  /** The ACL does not allow the operation for any identity of the session. */
  NOAUTH: -102,
  /** The node's version does not match the expected one. */
  BADVERSION: -103,
  /** Ephemeral nodes may not have children. */
  NOCHILDRENFOREPHEMERALS: -108,
  /** The node already exists. */
  NODEEXISTS: -110,
  /** The node has children (delete). */
  NOTEMPTY: -111,
  /** The session has expired; its ephemeral nodes and watches are gone. */
  SESSIONEXPIRED: -112,
  /** An invalid callback (Java only). */
  INVALIDCALLBACK: -113,
  /** The ACL is empty or malformed. */
  INVALIDACL: -114,
  /** Authentication failed. */
  AUTHFAILED: -115,
  /** The session moved to another server; this connection may not use it. */
  SESSIONMOVED: -118,
  /** A write was sent to a read-only server. */
  NOTREADONLY: -119,
  /** An ephemeral create on a local session. */
  EPHEMERALONLOCALSESSION: -120,
  /** No such watcher to check or remove. */
  NOWATCHER: -121,
  /** No reply within the client's requestTimeout. */
  REQUESTTIMEOUT: -122,
  /** Dynamic reconfiguration is disabled on the server. */
  RECONFIGDISABLED: -123,
  /** The server requires SASL authentication and closed the session without it. */
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  /** A write would exceed a hard quota (zookeeper.enforceQuota). */
  QUOTAEXCEEDED: -125,
  /** The server throttled the operation; retry later. */
  THROTTLEDOP: -127,
} as const;
/** An ErrorCode value. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CreateMode_VALUES = {
  /** A node that stays until deleted. */
  PERSISTENT: 0,
  /** A node deleted when the session that created it ends; it cannot have children. */
  EPHEMERAL: 1,
  /** A persistent node whose name gets a 10-digit, per-parent increasing suffix (`/q/item-0000000007`). */
  PERSISTENT_SEQUENTIAL: 2,
  /** An ephemeral node with a sequence suffix (what locks and elections queue with). */
  EPHEMERAL_SEQUENTIAL: 3,
  /** A node the server deletes once it has had children and has none left (checked every containerCheckIntervalMs). */
  CONTAINER: 4,
  /** A persistent node the server deletes once it has no children and was not modified for `ttl` ms (the server needs extendedTypesEnabled). */
  PERSISTENT_WITH_TTL: 5,
  /** PERSISTENT_WITH_TTL with a sequence suffix. */
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;
type CreateModeValues = typeof CreateMode_VALUES;
/** CreateMode values by name, and (not enumerable) names by value: `CreateMode[value]`. */
export interface CreateModeTable extends CreateModeValues, ValueNames {}
/**
 * How a node is created (the `mode` of create; CreateMode in Java).
 * `CreateMode[value]` gives the name.
 * @enum
 */
export const CreateMode: CreateModeTable = withNames(CreateMode_VALUES);
/** A CreateMode value. */
export type CreateMode = (typeof CreateMode_VALUES)[keyof typeof CreateMode_VALUES];

/** True for the modes that append a sequence number to the name. */
export function isSequential(mode: number): boolean {
  return mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}
/** True for EPHEMERAL and EPHEMERAL_SEQUENTIAL. */
export function isEphemeral(mode: number): boolean {
  return mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
}
/** True for the TTL modes (they need a `ttl`). */
export function isTTL(mode: number): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}
/** True for CONTAINER. */
export function isContainer(mode: number): boolean {
  return mode === CreateMode.CONTAINER;
}

const EventType_VALUES = {
  /** A session state change, not about a node (the event's `state` says which). */
  None: -1,
  /** The watched node was created (exists watches, persistent watches). */
  NodeCreated: 1,
  /** The watched node was deleted. */
  NodeDeleted: 2,
  /** The watched node's data was set. */
  NodeDataChanged: 3,
  /** A child of the watched node was created or deleted. */
  NodeChildrenChanged: 4,
  /** A data watch was removed (removeWatches); delivered to the removed watcher. */
  DataWatchRemoved: 5,
  /** A child watch was removed (removeWatches); delivered to the removed watcher. */
  ChildWatchRemoved: 6,
  /** A persistent watch was removed (removeWatches); delivered to the removed watcher. */
  PersistentWatchRemoved: 7,
} as const;
type EventTypeValues = typeof EventType_VALUES;
/** EventType values by name, and (not enumerable) names by value: `EventType[value]`. */
export interface EventTypeTable extends EventTypeValues, ValueNames {}
/**
 * What a watch event is about (Watcher.Event.EventType). `EventType[value]` gives the name.
 * @enum
 */
export const EventType: EventTypeTable = withNames(EventType_VALUES);
/** An EventType value. */
export type EventType = (typeof EventType_VALUES)[keyof typeof EventType_VALUES];

const KeeperState_VALUES = {
  /** Not connected (also while connecting); the session may still be alive and the handle keeps trying. */
  Disconnected: 0,
  /** Connected to a server of the quorum: reads and writes work. */
  SyncConnected: 3,
  /** Authentication failed; the handle is dead. */
  AuthFailed: 4,
  /** Connected to a read-only server (cut off from its quorum): reads only (canBeReadOnly). */
  ConnectedReadOnly: 5,
  /** SASL authentication succeeded. */
  SaslAuthenticated: 6,
  /** The session expired: its ephemeral nodes and watches are gone, and the handle is dead (make a new one). */
  Expired: -112,
  /** The handle was closed by close(). */
  Closed: 7,
} as const;
type KeeperStateValues = typeof KeeperState_VALUES;
/** KeeperState values by name, and (not enumerable) names by value: `KeeperState[value]`. */
export interface KeeperStateTable extends KeeperStateValues, ValueNames {}
/**
 * The state of a handle's session (Watcher.Event.KeeperState): `zk.state`,
 * 'state' events and a WatchedEvent's `state`. `KeeperState[value]` gives the name.
 * @enum
 */
export const KeeperState: KeeperStateTable = withNames(KeeperState_VALUES);
/** A KeeperState value. */
export type KeeperState = (typeof KeeperState_VALUES)[keyof typeof KeeperState_VALUES];

const WatcherType_VALUES = {
  /** Child watches (getChildren). */
  Children: 1,
  /** Data watches (getData, exists). */
  Data: 2,
  /** Every kind. */
  Any: 3,
  /** Persistent watches (addWatch PERSISTENT). */
  Persistent: 4,
  /** Persistent recursive watches (addWatch PERSISTENT_RECURSIVE). */
  PersistentRecursive: 5,
} as const;
type WatcherTypeValues = typeof WatcherType_VALUES;
/** WatcherType values by name, and (not enumerable) names by value: `WatcherType[value]`. */
export interface WatcherTypeTable extends WatcherTypeValues, ValueNames {}
/**
 * The kind of watch removeWatches, removeAllWatches and checkWatches are
 * about (Watcher.WatcherType). `WatcherType[value]` gives the name.
 * @enum
 */
export const WatcherType: WatcherTypeTable = withNames(WatcherType_VALUES);
/** A WatcherType value. */
export type WatcherType = (typeof WatcherType_VALUES)[keyof typeof WatcherType_VALUES];

const AddWatchMode_VALUES = {
  /** Fires on every data change and child change of the node, and its creation and deletion; not removed by firing. */
  PERSISTENT: 0,
  /** Fires on every change of the node and of all its descendants (no child events: each node's own events instead). */
  PERSISTENT_RECURSIVE: 1,
} as const;
type AddWatchModeValues = typeof AddWatchMode_VALUES;
/** AddWatchMode values by name, and (not enumerable) names by value: `AddWatchMode[value]`. */
export interface AddWatchModeTable extends AddWatchModeValues, ValueNames {}
/**
 * The kind of watch addWatch leaves (AddWatchMode in Java). `AddWatchMode[value]` gives the name.
 * @enum
 */
export const AddWatchMode: AddWatchModeTable = withNames(AddWatchMode_VALUES);
/** An AddWatchMode value. */
export type AddWatchMode = (typeof AddWatchMode_VALUES)[keyof typeof AddWatchMode_VALUES];

/**
 * ACL permission bits (ZooDefs.Perms); combine with `|` or {@link combinePerms}.
 * @enum
 */
export const Perms = {
  /** Read the node's data and list its children (getData, getChildren). */
  READ: 1,
  /** Set the node's data (setData). */
  WRITE: 2,
  /** Create children of the node. */
  CREATE: 4,
  /** Delete children of the node. */
  DELETE: 8,
  /** Set the node's ACL (setACL). */
  ADMIN: 16,
  /** READ | WRITE | CREATE | DELETE | ADMIN. */
  ALL: 31,
} as const;

/**
 * Quorum packet types (ZAB): the `type` of a QuorumPacket between a leader and its learners.
 * @enum
 */
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
