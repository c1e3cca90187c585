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
  type: 'error';
  err: number;
}

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

type KeeperErrorClass = new (message?: string, path?: string, options?: { cause?: unknown }) => KeeperError;
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

export const SystemError = named(define(ErrorCode.SYSTEMERROR), 'SystemError');
export const RuntimeInconsistencyError = named(define(ErrorCode.RUNTIMEINCONSISTENCY), 'RuntimeInconsistencyError');
export const DataInconsistencyError = named(define(ErrorCode.DATAINCONSISTENCY), 'DataInconsistencyError');
export const ConnectionLossError = named(define(ErrorCode.CONNECTIONLOSS), 'ConnectionLossError');
export const MarshallingError = named(define(ErrorCode.MARSHALLINGERROR), 'MarshallingError');
export const UnimplementedError = named(define(ErrorCode.UNIMPLEMENTED), 'UnimplementedError');
export const OperationTimeoutError = named(define(ErrorCode.OPERATIONTIMEOUT), 'OperationTimeoutError');
export const BadArgumentsError = named(define(ErrorCode.BADARGUMENTS), 'BadArgumentsError');
export const UnknownSessionError = named(define(ErrorCode.UNKNOWNSESSION), 'UnknownSessionError');
export const NewConfigNoQuorumError = named(define(ErrorCode.NEWCONFIGNOQUORUM), 'NewConfigNoQuorumError');
export const ReconfigInProgressError = named(define(ErrorCode.RECONFIGINPROGRESS), 'ReconfigInProgressError');
export const APIError = named(define(ErrorCode.APIERROR), 'APIError');
export const NoNodeError = named(define(ErrorCode.NONODE), 'NoNodeError');
export const NoAuthError = named(define(ErrorCode.NOAUTH), 'NoAuthError');
export const BadVersionError = named(define(ErrorCode.BADVERSION), 'BadVersionError');
export const NoChildrenForEphemeralsError = named(define(ErrorCode.NOCHILDRENFOREPHEMERALS), 'NoChildrenForEphemeralsError');
export const NodeExistsError = named(define(ErrorCode.NODEEXISTS), 'NodeExistsError');
export const NotEmptyError = named(define(ErrorCode.NOTEMPTY), 'NotEmptyError');
export const SessionExpiredError = named(define(ErrorCode.SESSIONEXPIRED), 'SessionExpiredError');
export const InvalidCallbackError = named(define(ErrorCode.INVALIDCALLBACK), 'InvalidCallbackError');
export const InvalidACLError = named(define(ErrorCode.INVALIDACL), 'InvalidACLError');
export const AuthFailedError = named(define(ErrorCode.AUTHFAILED), 'AuthFailedError');
export const SessionMovedError = named(define(ErrorCode.SESSIONMOVED), 'SessionMovedError');
export const NotReadOnlyError = named(define(ErrorCode.NOTREADONLY), 'NotReadOnlyError');
export const EphemeralOnLocalSessionError = named(define(ErrorCode.EPHEMERALONLOCALSESSION), 'EphemeralOnLocalSessionError');
export const NoWatcherError = named(define(ErrorCode.NOWATCHER), 'NoWatcherError');
export const RequestTimeoutError = named(define(ErrorCode.REQUESTTIMEOUT), 'RequestTimeoutError');
export const ReconfigDisabledError = named(define(ErrorCode.RECONFIGDISABLED), 'ReconfigDisabledError');
export const SessionClosedRequireSaslAuthError = named(
  define(ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH),
  'SessionClosedRequireSaslAuthError',
);
export const QuotaExceededError = named(define(ErrorCode.QUOTAEXCEEDED), 'QuotaExceededError');
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
export type SystemError = KeeperError;
export type RuntimeInconsistencyError = KeeperError;
export type DataInconsistencyError = KeeperError;
export type ConnectionLossError = KeeperError;
export type MarshallingError = KeeperError;
export type UnimplementedError = KeeperError;
export type OperationTimeoutError = KeeperError;
export type BadArgumentsError = KeeperError;
export type UnknownSessionError = KeeperError;
export type NewConfigNoQuorumError = KeeperError;
export type ReconfigInProgressError = KeeperError;
export type APIError = KeeperError;
export type NoNodeError = KeeperError;
export type NoAuthError = KeeperError;
export type BadVersionError = KeeperError;
export type NoChildrenForEphemeralsError = KeeperError;
export type NodeExistsError = KeeperError;
export type NotEmptyError = KeeperError;
export type SessionExpiredError = KeeperError;
export type InvalidCallbackError = KeeperError;
export type InvalidACLError = KeeperError;
export type AuthFailedError = KeeperError;
export type SessionMovedError = KeeperError;
export type NotReadOnlyError = KeeperError;
export type EphemeralOnLocalSessionError = KeeperError;
export type NoWatcherError = KeeperError;
export type RequestTimeoutError = KeeperError;
export type ReconfigDisabledError = KeeperError;
export type SessionClosedRequireSaslAuthError = KeeperError;
export type QuotaExceededError = KeeperError;
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
