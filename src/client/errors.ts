/**
 * One error class tree for everything a ZooKeeper call can fail with, keyed by
 * the wire's numeric code (KeeperException.Code in the Java client), so that
 * `err.code === -101` and `err instanceof NoNodeError` say the same thing.
 *
 * `retriable` marks the codes after which the same call may simply be made
 * again on the same handle (Curator's RetryLoop.shouldRetry and kazoo's
 * KazooRetry, minus SessionExpired: our handle is dead after expiry, so a
 * retry on it can never succeed).
 */
import { ErrorCode } from '../proto/constants';

/** A per-op result of a failed multi(), attached to the error (see KeeperError.results). */
export interface FailedOpResult {
  /** Always 'error'. */
  type: 'error';
  /** The op's error code: 0 before the failing op, RUNTIMEINCONSISTENCY (-2) after it. */
  err: number;
}

/**
 * A ZooKeeper error: the base class of every error a call rejects with.
 * Each code has a subclass (NoNodeError for -101, NONODE...), so both
 * `err instanceof NoNodeError` and `err.code === ErrorCode.NONODE` work.
 *
 * @example
 *   try {
 *     await zk.create('/app/lock', '');
 *   } catch (e) {
 *     if (!(e instanceof NodeExistsError)) throw e;
 *   }
 */
export class KeeperError extends Error {
  /** The wire error code (ErrorCode), e.g. -101 for NoNode. */
  readonly code: number;
  /** The client-side path the call was about, when there is one. */
  path?: string;
  /** True when the same call may be retried on the same handle. */
  readonly retriable: boolean;
  /** For a failed multi(): the index of the op that failed. */
  opIndex?: number;
  /** For a failed multi(): every per-op result (ops before the failing one carry err 0). */
  results?: unknown[];

  /** An error of `code`; prefer {@link KeeperError.create}, which picks the subclass. */
  constructor(code: number, message?: string, path?: string, options?: { cause?: unknown }) {
    const name = codeName(code);
    super(message ?? (path !== undefined ? `${name}: ${path}` : name), options);
    this.code = code;
    this.path = path;
    this.retriable = RETRIABLE.has(code);
    this.name = new.target === KeeperError ? `KeeperError(${name})` : new.target.name;
  }

  /** Builds the subclass that matches `code` (KeeperException.create). */
  static create(code: number, path?: string, message?: string, options?: { cause?: unknown }): KeeperError {
    const cls = BY_CODE.get(code);
    if (cls) return new cls(message, path, options);
    return new KeeperError(code, message, path, options);
  }

  /** The name of a code (`NONODE` style, as in ErrorCode), or `UNKNOWN(code)`. */
  static codeName(code: number): string {
    return codeName(code);
  }
}

const NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v as number, k]));
function codeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

const RETRIABLE = new Set<number>([
  ErrorCode.CONNECTIONLOSS,
  ErrorCode.OPERATIONTIMEOUT,
  ErrorCode.SESSIONMOVED,
  ErrorCode.REQUESTTIMEOUT,
  ErrorCode.THROTTLEDOP,
]);

/** The constructor of a per-code KeeperError subclass (`new NoNodeError(message?, path?, { cause }?)`). */
export type KeeperErrorClass = new (message?: string, path?: string, options?: { cause?: unknown }) => KeeperError;
const BY_CODE = new Map<number, KeeperErrorClass>();

function define(code: number): KeeperErrorClass {
  // Each subclass fixes its code; `name` comes from the class (see KeeperError's constructor).
  const cls = class extends KeeperError {
    static readonly CODE = code;
    constructor(message?: string, path?: string, options?: { cause?: unknown }) {
      super(code, message, path, options);
    }
  };
  BY_CODE.set(code, cls);
  return cls;
}

function named<T extends KeeperErrorClass>(cls: T, name: string): T {
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** SYSTEMERROR (-1): a server-side failure with no more specific code; rare, and not retriable. */
export const SystemError = named(define(ErrorCode.SYSTEMERROR), 'SystemError');
/** RUNTIMEINCONSISTENCY (-2): the server found a runtime inconsistency. */
export const RuntimeInconsistencyError = named(define(ErrorCode.RUNTIMEINCONSISTENCY), 'RuntimeInconsistencyError');
/** DATAINCONSISTENCY (-3): the server found a data inconsistency. */
export const DataInconsistencyError = named(define(ErrorCode.DATAINCONSISTENCY), 'DataInconsistencyError');
/**
 * CONNECTIONLOSS (-4): the connection was lost before the reply came (or no server was reachable
 * within connectTimeout): the call may or may not have been applied. Retriable; the handle reconnects
 * by itself.
 */
export const ConnectionLossError = named(define(ErrorCode.CONNECTIONLOSS), 'ConnectionLossError');
/** MARSHALLINGERROR (-5): a request could not be encoded, or a reply could not be decoded (a broken stream). */
export const MarshallingError = named(define(ErrorCode.MARSHALLINGERROR), 'MarshallingError');
/** UNIMPLEMENTED (-6): the server does not implement the operation (e.g. reconfig on a standalone server with reconfigEnabled). */
export const UnimplementedError = named(define(ErrorCode.UNIMPLEMENTED), 'UnimplementedError');
/** OPERATIONTIMEOUT (-7): the operation timed out. Retriable. */
export const OperationTimeoutError = named(define(ErrorCode.OPERATIONTIMEOUT), 'OperationTimeoutError');
/**
 * BADARGUMENTS (-8): the call was refused before anything was sent (a malformed path, an unknown
 * create mode, a TTL mode without ttl, bad options), or the server refused its arguments.
 */
export const BadArgumentsError = named(define(ErrorCode.BADARGUMENTS), 'BadArgumentsError');
/** UNKNOWNSESSION (-12): the server does not know the session. */
export const UnknownSessionError = named(define(ErrorCode.UNKNOWNSESSION), 'UnknownSessionError');
/** NEWCONFIGNOQUORUM (-13): a reconfig whose new configuration has no quorum of connected, synced followers. */
export const NewConfigNoQuorumError = named(define(ErrorCode.NEWCONFIGNOQUORUM), 'NewConfigNoQuorumError');
/** RECONFIGINPROGRESS (-14): a reconfig while another one is in progress. */
export const ReconfigInProgressError = named(define(ErrorCode.RECONFIGINPROGRESS), 'ReconfigInProgressError');
/** APIERROR (-100): an API error with no more specific code. */
export const APIError = named(define(ErrorCode.APIERROR), 'APIError');
/** NONODE (-101): the node (or, for create, its parent) does not exist. */
export const NoNodeError = named(define(ErrorCode.NONODE), 'NoNodeError');
/** NOAUTH (-102): the node's ACL grants the operation to none of the session's identities. */
export const NoAuthError = named(define(ErrorCode.NOAUTH), 'NoAuthError');
/** BADVERSION (-103): the expected version (setData, delete, setACL, check) does not match the node's. */
export const BadVersionError = named(define(ErrorCode.BADVERSION), 'BadVersionError');
/** NOCHILDRENFOREPHEMERALS (-108): a create under an ephemeral node (ephemeral nodes cannot have children). */
export const NoChildrenForEphemeralsError = named(define(ErrorCode.NOCHILDRENFOREPHEMERALS), 'NoChildrenForEphemeralsError');
/** NODEEXISTS (-110): a create of a node that already exists. */
export const NodeExistsError = named(define(ErrorCode.NODEEXISTS), 'NodeExistsError');
/** NOTEMPTY (-111): a delete of a node that has children. */
export const NotEmptyError = named(define(ErrorCode.NOTEMPTY), 'NotEmptyError');
/**
 * SESSIONEXPIRED (-112): the session expired (its ephemeral nodes and watches are gone), or the call
 * was made on a closed handle. Not retriable: make a new handle.
 */
export const SessionExpiredError = named(define(ErrorCode.SESSIONEXPIRED), 'SessionExpiredError');
/** INVALIDCALLBACK (-113): an invalid callback (Java only; never sent by servers). */
export const InvalidCallbackError = named(define(ErrorCode.INVALIDCALLBACK), 'InvalidCallbackError');
/** INVALIDACL (-114): an empty or malformed ACL list, or one the server refuses (e.g. `auth:` with no authenticated identity). */
export const InvalidACLError = named(define(ErrorCode.INVALIDACL), 'InvalidACLError');
/** AUTHFAILED (-115): authentication failed (addAuthInfo with an unknown scheme, SASL failure); the handle is dead. */
export const AuthFailedError = named(define(ErrorCode.AUTHFAILED), 'AuthFailedError');
/** SESSIONMOVED (-118): the session was re-attached on another server meanwhile. Retriable. */
export const SessionMovedError = named(define(ErrorCode.SESSIONMOVED), 'SessionMovedError');
/** NOTREADONLY (-119): a write on a read-only server (state ConnectedReadOnly). */
export const NotReadOnlyError = named(define(ErrorCode.NOTREADONLY), 'NotReadOnlyError');
/** EPHEMERALONLOCALSESSION (-120): an ephemeral create on a local session (localSessionsEnabled without upgrade). */
export const EphemeralOnLocalSessionError = named(define(ErrorCode.EPHEMERALONLOCALSESSION), 'EphemeralOnLocalSessionError');
/** NOWATCHER (-121): checkWatches or removeWatches found no such watcher. */
export const NoWatcherError = named(define(ErrorCode.NOWATCHER), 'NoWatcherError');
/** REQUESTTIMEOUT (-122): no reply within the handle's requestTimeout; the connection is re-established. Retriable. */
export const RequestTimeoutError = named(define(ErrorCode.REQUESTTIMEOUT), 'RequestTimeoutError');
/** RECONFIGDISABLED (-123): reconfig on a server without reconfigEnabled. */
export const ReconfigDisabledError = named(define(ErrorCode.RECONFIGDISABLED), 'ReconfigDisabledError');
/** SESSIONCLOSEDREQUIRESASLAUTH (-124): the server requires SASL authentication (enforce.auth) and closed the session without it. */
export const SessionClosedRequireSaslAuthError = named(
  define(ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH),
  'SessionClosedRequireSaslAuthError',
);
/** QUOTAEXCEEDED (-125): a write would exceed a hard quota under /zookeeper/quota (zookeeper.enforceQuota). */
export const QuotaExceededError = named(define(ErrorCode.QUOTAEXCEEDED), 'QuotaExceededError');
/** THROTTLEDOP (-127): the server throttled the operation (overload). Retriable after a pause. */
export const ThrottledOpError = named(define(ErrorCode.THROTTLEDOP), 'ThrottledOpError');

/**
 * A request larger than the server's jute.maxbuffer (the whole packet after
 * its length prefix; Apache's default is 0xfffff bytes). Refused before it is
 * sent: the server would drop the connection, and a retry would fail the same way.
 */
export class PayloadTooLargeError extends BadArgumentsError {
  constructor(
    /** The request packet's size in bytes. */
    readonly size: number,
    /** The limit it broke (the handle's maxBufferSize option). */
    readonly limit: number,
    path?: string,
  ) {
    super(
      `request of ${size} bytes exceeds the server's jute.maxbuffer limit of ${limit} bytes (option maxBufferSize; 0x${limit.toString(16)})` +
        (path !== undefined ? `: ${path}` : ''),
      path,
    );
  }
}

// Instance types, so `catch (e) { if (e instanceof NoNodeError) ... }` narrows and
// users can write `let e: NoNodeError`.
/** An instance of the SystemError class (code SYSTEMERROR, -1). */
export type SystemError = KeeperError;
/** An instance of the RuntimeInconsistencyError class (code RUNTIMEINCONSISTENCY, -2). */
export type RuntimeInconsistencyError = KeeperError;
/** An instance of the DataInconsistencyError class (code DATAINCONSISTENCY, -3). */
export type DataInconsistencyError = KeeperError;
/** An instance of the ConnectionLossError class (code CONNECTIONLOSS, -4). */
export type ConnectionLossError = KeeperError;
/** An instance of the MarshallingError class (code MARSHALLINGERROR, -5). */
export type MarshallingError = KeeperError;
/** An instance of the UnimplementedError class (code UNIMPLEMENTED, -6). */
export type UnimplementedError = KeeperError;
/** An instance of the OperationTimeoutError class (code OPERATIONTIMEOUT, -7). */
export type OperationTimeoutError = KeeperError;
/** An instance of the BadArgumentsError class (code BADARGUMENTS, -8). */
export type BadArgumentsError = KeeperError;
/** An instance of the UnknownSessionError class (code UNKNOWNSESSION, -12). */
export type UnknownSessionError = KeeperError;
/** An instance of the NewConfigNoQuorumError class (code NEWCONFIGNOQUORUM, -13). */
export type NewConfigNoQuorumError = KeeperError;
/** An instance of the ReconfigInProgressError class (code RECONFIGINPROGRESS, -14). */
export type ReconfigInProgressError = KeeperError;
/** An instance of the APIError class (code APIERROR, -100). */
export type APIError = KeeperError;
/** An instance of the NoNodeError class (code NONODE, -101). */
export type NoNodeError = KeeperError;
/** An instance of the NoAuthError class (code NOAUTH, -102). */
export type NoAuthError = KeeperError;
/** An instance of the BadVersionError class (code BADVERSION, -103). */
export type BadVersionError = KeeperError;
/** An instance of the NoChildrenForEphemeralsError class (code NOCHILDRENFOREPHEMERALS, -108). */
export type NoChildrenForEphemeralsError = KeeperError;
/** An instance of the NodeExistsError class (code NODEEXISTS, -110). */
export type NodeExistsError = KeeperError;
/** An instance of the NotEmptyError class (code NOTEMPTY, -111). */
export type NotEmptyError = KeeperError;
/** An instance of the SessionExpiredError class (code SESSIONEXPIRED, -112). */
export type SessionExpiredError = KeeperError;
/** An instance of the InvalidCallbackError class (code INVALIDCALLBACK, -113). */
export type InvalidCallbackError = KeeperError;
/** An instance of the InvalidACLError class (code INVALIDACL, -114). */
export type InvalidACLError = KeeperError;
/** An instance of the AuthFailedError class (code AUTHFAILED, -115). */
export type AuthFailedError = KeeperError;
/** An instance of the SessionMovedError class (code SESSIONMOVED, -118). */
export type SessionMovedError = KeeperError;
/** An instance of the NotReadOnlyError class (code NOTREADONLY, -119). */
export type NotReadOnlyError = KeeperError;
/** An instance of the EphemeralOnLocalSessionError class (code EPHEMERALONLOCALSESSION, -120). */
export type EphemeralOnLocalSessionError = KeeperError;
/** An instance of the NoWatcherError class (code NOWATCHER, -121). */
export type NoWatcherError = KeeperError;
/** An instance of the RequestTimeoutError class (code REQUESTTIMEOUT, -122). */
export type RequestTimeoutError = KeeperError;
/** An instance of the ReconfigDisabledError class (code RECONFIGDISABLED, -123). */
export type ReconfigDisabledError = KeeperError;
/** An instance of the SessionClosedRequireSaslAuthError class (code SESSIONCLOSEDREQUIRESASLAUTH, -124). */
export type SessionClosedRequireSaslAuthError = KeeperError;
/** An instance of the QuotaExceededError class (code QUOTAEXCEEDED, -125). */
export type QuotaExceededError = KeeperError;
/** An instance of the ThrottledOpError class (code THROTTLEDOP, -127). */
export type ThrottledOpError = KeeperError;

/**
 * Re-captures an error's stack at the caller's await. Errors are born in the
 * socket handler, whose stack says nothing useful; calling this in the public
 * async method (after `await`) gives V8's async stack: the API method and the
 * user's awaiting functions (the node-postgres PR #2983 idea).
 */
export function restack<E>(err: E, at?: Function): E {
  if (err instanceof Error) Error.captureStackTrace(err, at ?? restack);
  return err;
}
