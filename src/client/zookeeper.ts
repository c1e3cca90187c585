/**
 * The ZooKeeper handle (see the class's comment for its use).
 *
 * Every method names one operation of operations.ts, which describes how
 * its arguments are checked (a bad path rejects with BadArgumentsError and
 * nothing is sent), how its request is built, how its reply decodes and
 * which watch it sets; session.ts runs them all the same way. Replies,
 * watch events and state changes are delivered in server order through one
 * serial queue (event-queue.ts); watches are kept client-side
 * (watch-manager.ts) and re-registered after a reconnect (connection.ts).
 */
import { EventEmitter } from 'events';
import type * as tls from 'tls';
import { DEFAULT_MAX_BUFFER } from '../jute/framer';
import { AddWatchMode, KeeperState, WatcherType } from '../proto/constants';
import type { ACL, ClientInfo, Stat } from '../proto/generated/data';
import type { AclEntry } from './acl';
import { ConnectString, parseConnectString } from './connect-string';
import { AuthInfo, Connection, RW_PROBE_MAX_INTERVAL, RW_PROBE_MIN_INTERVAL, SaslOptions } from './connection';
import { BadArgumentsError, KeeperError, restack } from './errors';
import { HostProvider } from './host-provider';
import {
  ADD_WATCH,
  CHECK_WATCHES,
  CREATE,
  CREATE2,
  Create2Result,
  DELETE,
  EXISTS,
  GET_ACL,
  GET_ALL_CHILDREN_NUMBER,
  GET_CHILDREN,
  GET_CHILDREN2,
  GET_CONFIG,
  GET_DATA,
  GET_EPHEMERALS,
  MULTI,
  MULTI_READ,
  NodeData,
  Operation,
  RECONFIG,
  ReconfigOptions,
  REMOVE_ALL_WATCHES,
  REMOVE_WATCHER,
  SET_ACL,
  SET_DATA,
  SYNC,
  WatchArg,
  WHO_AM_I,
} from './operations';
import { CreateOptions, Data, Op, OpResult, Transaction } from './ops';
import { Session } from './session';
import './stat-view';
import type { Watcher, WatchedEvent } from './watch-manager';

export type { Create2Result, NodeData, ReconfigOptions, WatchArg } from './operations';

/** Options of a {@link ZooKeeper} handle; every one is optional. */
export interface ZooKeeperOptions {
  /** Requested session timeout in ms (default 10 000); the server clamps it to [2, 20] x tickTime. */
  sessionTimeout?: number;
  /**
   * How long connected() waits, and how long requests wait for a connection,
   * before a ConnectionLoss and an 'error' event (default 15 000 ms). The
   * handle keeps trying after that.
   */
  connectTimeout?: number;
  /**
   * Accept a read-only server (one cut off from its quorum); state
   * ConnectedReadOnly. While read-only, the other hosts are asked `isro`
   * now and then; the handle moves to the first read/write one by itself
   * (Disconnected, then SyncConnected; a session born read-only is local to
   * that server, so the move starts a new session, as in Java).
   */
  canBeReadOnly?: boolean;
  /**
   * While read-only: wait before the first `isro` probe, doubled after each
   * probe up to `max` (default { initial: 100, max: 60 000 } ms, the Java client's).
   */
  rwProbeInterval?: {
    /** The first wait in ms (default 100). */
    initial?: number;
    /** The longest wait in ms (default 60 000). */
    max?: number;
  };
  /**
   * Java's zookeeper.request.timeout: when > 0, a call without a reply this
   * many ms after it was made fails with RequestTimeoutError (code -122) and
   * the connection is dropped and re-established (the other calls sent on
   * it fail with ConnectionLoss). Default 0: wait as long as the
   * connection lives.
   */
  requestTimeout?: number;
  /** Re-attach to an existing session (with sessionPassword), e.g. another handle's `sessionId`. */
  sessionId?: bigint;
  /** The password of the session given by `sessionId` (another handle's `sessionPassword`). */
  sessionPassword?: Buffer;
  /** Auth to add before anything else (re-sent after every reconnect), like addAuthInfo. */
  authInfo?: {
    /** The auth scheme (`digest`, `ip`...). */
    scheme: string;
    /** The credentials (`user:password` for digest). */
    auth: Buffer | string;
  }[];
  /** SASL DIGEST-MD5 credentials (the server needs a JAAS Server section and the SASL auth provider). */
  sasl?: SaslOptions;
  /** Connect with TLS to a secure client port; node's tls.connect options (ca, cert, key, servername, rejectUnauthorized...). */
  tls?: tls.ConnectionOptions;
  /**
   * The server's jute.maxbuffer (default 0xfffff, Apache's): a request
   * packet larger than this fails at once with PayloadTooLargeError instead
   * of being sent (the server would drop the connection); a reply frame
   * larger than this plus 1 KB of headers is treated as a broken stream.
   */
  maxBufferSize?: number;
  /** Receives every state change and the events of `watch: true` calls. */
  defaultWatcher?: Watcher;
  /** Declare the session expired after being disconnected for the whole negotiated timeout (default true). */
  localSessionExpiry?: boolean;
  /** Shuffle the hosts once (default true). */
  shuffleHosts?: boolean;
  /** Random source for host shuffling and back-off jitter (tests). */
  random?: () => number;
}

/** Credentials for addAuthInfo, as plain data. */
export interface AuthData {
  /** The auth scheme (`digest`, `ip`, or a custom one the server knows). */
  scheme: string;
  /** The credentials in the scheme's format (`user:password` for digest); a string is sent as UTF-8. */
  auth: Buffer | string;
}

/** The events a handle emits, for typed `on`/`once`. */
export interface ZooKeeper {
  /** Every session state change (SyncConnected, Disconnected, Expired...), with the event a default watcher gets. */
  on(event: 'state', listener: (state: KeeperState, event: WatchedEvent) => unknown): this;
  /** No server could be reached within connectTimeout (a ConnectionLossError); the handle keeps trying. */
  on(event: 'error', listener: (err: KeeperError) => void): this;
  /** A watcher or state listener threw or rejected. */
  on(event: 'watcherError', listener: (err: unknown) => void): this;
  /** Any other EventEmitter event. */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** The next session state change. */
  once(event: 'state', listener: (state: KeeperState, event: WatchedEvent) => unknown): this;
  /** The next connect failure (see `on('error')`). */
  once(event: 'error', listener: (err: KeeperError) => void): this;
  /** The next watcher failure. */
  once(event: 'watcherError', listener: (err: unknown) => void): this;
  /** Any other EventEmitter event, once. */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * The handle's inside, for this package's own tests and harnesses (not exported by the package index).
 * @internal
 */
export let sessionOf: (zk: ZooKeeper) => Session;

/**
 * The ZooKeeper handle: a promise API over one session, with the Java
 * client's semantics.
 *
 * The handle starts connecting when constructed and reconnects by itself
 * (to the next host of the connect string) while the session lives; calls
 * made while disconnected wait for the connection (up to connectTimeout).
 * A call rejects with the KeeperError subclass of its error code
 * (NoNodeError, NodeExistsError, BadVersionError...); ConnectionLossError
 * means the reply was lost and the change may or may not have happened.
 * Watches are one-shot (except addWatch's) and fire at most once per
 * registration, in order with the replies.
 *
 * Records may be given as plain data (`{ perms, id: { scheme, id } }` for
 * an ACL); results print well: `JSON.stringify(stat)` gives zxids as
 * strings, `KeeperState[zk.state]` and `EventType[event.type]` give names,
 * and an event logs as `WatchedEvent NodeDataChanged /x (SyncConnected)`.
 *
 * Events: 'state' (state: KeeperState, event) for every state change; 'error'
 * (err: KeeperError) when no server could be reached within connectTimeout
 * (only emitted when someone listens, so an unhandled 'error' never crashes
 * a process that awaits connected() instead); 'watcherError' (err) when a
 * watcher or state listener throws or rejects.
 *
 * @example
 *   const zk = new ZooKeeper('127.0.0.1:2181/app', { sessionTimeout: 10_000 });
 *   await zk.connected();
 *   await zk.create('/x', Buffer.from('v'), { mode: CreateMode.EPHEMERAL });
 *   const { data, stat } = await zk.getData('/x', (event) => console.log(event));
 *   await zk.close();
 */
export class ZooKeeper extends EventEmitter {
  /** The chroot from the connect string ('' when none). */
  readonly chroot: string;
  readonly #session: Session;
  readonly #connection: Connection;

  static {
    sessionOf = (zk) => zk.#session;
  }

  /**
   * A handle for `connectString` (`host[:port][,host[:port]...][/chroot]`,
   * port 2181 by default); it starts connecting at once. Throws
   * BadArgumentsError for a malformed connect string or options.
   */
  constructor(connectString: string, options: ZooKeeperOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new BadArgumentsError('options must be an object');
    const cs: ConnectString = parseConnectString(connectString);
    this.chroot = cs.chroot;
    if (options.sasl && options.sasl.mechanism !== 'DIGEST-MD5') {
      throw new BadArgumentsError(`unsupported SASL mechanism ${options.sasl.mechanism} (only DIGEST-MD5)`);
    }
    if (options.sessionId !== undefined && options.sessionPassword === undefined) {
      throw new BadArgumentsError('sessionId needs sessionPassword');
    }
    const session = new Session(this, cs.chroot, options.defaultWatcher ?? null, options.sasl != null);
    this.#session = session;
    for (const a of options.authInfo ?? []) session.authInfo.push(authInfo(a.scheme, a.auth));
    const sessionTimeout = options.sessionTimeout ?? 10_000;
    const hosts = new HostProvider(cs.hosts, { random: options.random, shuffle: options.shuffleHosts });
    this.#connection = new Connection(
      hosts,
      {
        sessionTimeout,
        connectTimeout: options.connectTimeout ?? 15_000,
        canBeReadOnly: options.canBeReadOnly ?? false,
        sessionId: options.sessionId ?? 0n,
        sessionPassword: options.sessionPassword ?? null,
        maxBufferSize: positiveInteger('maxBufferSize', options.maxBufferSize ?? DEFAULT_MAX_BUFFER),
        tls: options.tls ?? null,
        sasl: options.sasl ?? null,
        localSessionExpiry: options.localSessionExpiry ?? true,
        requestTimeout: nonNegative('requestTimeout', options.requestTimeout ?? 0),
        rwProbeMinInterval: positive('rwProbeInterval.initial', options.rwProbeInterval?.initial ?? RW_PROBE_MIN_INTERVAL),
        rwProbeMaxInterval: positive('rwProbeInterval.max', options.rwProbeInterval?.max ?? RW_PROBE_MAX_INTERVAL),
      },
      session,
      session.watches,
      session.authInfo,
    );
    session.connection = this.#connection;
    this.#connection.start();
  }

  // ---- session facts ----------------------------------------------------

  /** The session id (0n until the first handshake). */
  get sessionId(): bigint {
    return this.#connection.sessionId;
  }

  /** The session password (to re-attach with `sessionId` from another handle). */
  get sessionPassword(): Buffer {
    return this.#connection.sessionPassword;
  }

  /** The session timeout the server granted (0 until the first handshake). */
  get negotiatedTimeout(): number {
    return this.#connection.negotiatedTimeout;
  }

  /** The current state: Disconnected (also while connecting), SyncConnected, ConnectedReadOnly, Expired, AuthFailed or Closed (`KeeperState[zk.state]` names it). */
  get state(): KeeperState {
    return this.#session.state;
  }

  /** The largest zxid seen in a reply. */
  get lastZxid(): bigint {
    return this.#connection.lastZxid;
  }

  /** The server currently (or last) connected to; null before the first connection. */
  get currentHost(): {
    /** The server's host, as in the connect string. */
    host: string;
    /** The server's client port. */
    port: number;
  } | null {
    return this.#connection.currentHost;
  }

  /**
   * Resolves when the handle is connected (SyncConnected or ConnectedReadOnly,
   * after SASL when configured). Rejects with ConnectionLossError when no
   * server was reachable within connectTimeout, SessionExpiredError after
   * expiry or close, AuthFailedError after an authentication failure.
   */
  connected(): Promise<void> {
    const session = this.#session;
    if (session.ready) return Promise.resolve();
    if (!this.#connection.isAlive) return Promise.reject(restack(this.#connection.deadError()));
    return new Promise<void>((resolve, reject) => {
      session.waiters.push({ resolve, reject });
    });
  }

  // ---- operations (each one is described in operations.ts) ----------------

  /**
   * Creates a node; resolves with its path (with the sequence suffix for
   * sequential modes), relative to the chroot. Rejects with NodeExistsError,
   * NoNodeError (no parent), NoChildrenForEphemeralsError (parent is
   * ephemeral), NoAuthError (no CREATE on the parent), or BadArgumentsError
   * (a bad path, mode or ttl; nothing sent).
   */
  create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    return this.#run(CREATE, path, data, options);
  }

  /** Creates a node like create(); resolves with its path and Stat (Java's create(..., stat)). */
  create2(path: string, data?: Data, options: CreateOptions = {}): Promise<Create2Result> {
    return this.#run(CREATE2, path, data, options);
  }

  /**
   * Deletes a node; version -1 matches any. Rejects with NoNodeError,
   * BadVersionError, NotEmptyError (it has children) or NoAuthError (no
   * DELETE on the parent).
   */
  delete(path: string, version = -1): Promise<void> {
    return this.#run(DELETE, path, version);
  }

  /** The node's Stat, or null when it does not exist. A watcher fires on its creation, deletion or data change. */
  exists(path: string, watch?: WatchArg): Promise<Stat | null> {
    return this.#run(EXISTS, path, watch);
  }

  /**
   * The node's data (null only for a node holding no data, see NodeData) and
   * Stat. A watcher fires on its deletion or data change. Rejects with
   * NoNodeError (no watch is left then: use exists() to watch for a creation).
   */
  getData(path: string, watch?: WatchArg): Promise<NodeData> {
    return this.#run(GET_DATA, path, watch);
  }

  /** Sets the node's data; version -1 matches any. Resolves with the new Stat. Rejects with NoNodeError, BadVersionError or NoAuthError. */
  setData(path: string, data: Data, version = -1): Promise<Stat> {
    return this.#run(SET_DATA, path, data, version);
  }

  /** The node's ACL and Stat. Rejects with NoNodeError when it does not exist. */
  getACL(path: string): Promise<{
    /** The node's ACL. */
    acl: ACL[];
    /** The node's Stat (aversion is the version setACL compares with). */
    stat: Stat;
  }> {
    return this.#run(GET_ACL, path);
  }

  /** Replaces the node's ACL (plain `{ perms, id: { scheme, id } }` objects or ACL records); version (the ACL version, aversion) -1 matches any. Resolves with the new Stat. */
  setACL(path: string, acl: readonly AclEntry[], version = -1): Promise<Stat> {
    return this.#run(SET_ACL, path, acl, version);
  }

  /** The node's children (names, unsorted). A watcher fires on a child change or the node's deletion. Rejects with NoNodeError. */
  getChildren(path: string, watch?: WatchArg): Promise<string[]> {
    return this.#run(GET_CHILDREN, path, watch);
  }

  /** The node's children and its Stat (getChildren2). A watcher fires on a child change or the node's deletion. */
  getChildren2(path: string, watch?: WatchArg): Promise<{
    /** The children's names, unsorted. */
    children: string[];
    /** The node's Stat. */
    stat: Stat;
  }> {
    return this.#run(GET_CHILDREN2, path, watch);
  }

  /** Waits until the connected server has caught up with the leader (for the path's subtree). */
  sync(path: string): Promise<string> {
    return this.#run(SYNC, path);
  }

  /**
   * Applies create/delete/setData/check ops atomically. Resolves with one
   * result per op. On failure nothing was applied and the promise rejects
   * with the failing op's KeeperError subclass, carrying `opIndex` and all
   * per-op `results`.
   */
  multi(ops: Op[]): Promise<OpResult[]> {
    return this.#run(MULTI, ops);
  }

  /** Reads several nodes in one round trip (getData/getChildren ops); each result is a value or an error result. */
  multiRead(ops: Op[]): Promise<OpResult[]> {
    return this.#run(MULTI_READ, ops);
  }

  /** A transaction builder: `await zk.transaction().create(...).delete(...).commit()`. */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /** Adds a persistent (or persistent-recursive) watch; it stays until removed. */
  addWatch(path: string, watcher: Watcher, mode: AddWatchMode = AddWatchMode.PERSISTENT): Promise<void> {
    return this.#run(ADD_WATCH, path, watcher, mode);
  }

  /**
   * Removes one watcher function of a kind (WatcherType) from a path. The
   * removed watcher gets a DataWatchRemoved / ChildWatchRemoved /
   * PersistentWatchRemoved event. With `local`, the watcher is removed from
   * this client even if the server cannot be asked (disconnected) or refuses.
   * Rejects with NoWatcherError when no such watcher is registered.
   */
  removeWatches(path: string, watcher: Watcher, type: WatcherType = WatcherType.Any, local = false): Promise<void> {
    return this.#run(REMOVE_WATCHER, path, watcher, type, local);
  }

  /** Removes every watcher of a kind from a path, here and on the server (see removeWatches). */
  removeAllWatches(path: string, type: WatcherType = WatcherType.Any, local = false): Promise<void> {
    return this.#run(REMOVE_ALL_WATCHES, path, type, local);
  }

  /** Asks the server whether this session has a watch of a kind on a path (rejects with NoWatcherError if not); changes nothing. */
  checkWatches(path: string, type: WatcherType = WatcherType.Any): Promise<void> {
    return this.#run(CHECK_WATCHES, path, type);
  }

  /** The paths of this session's ephemeral nodes under a prefix (a path prefix, not only a parent). */
  getEphemerals(prefixPath = '/'): Promise<string[]> {
    return this.#run(GET_EPHEMERALS, prefixPath);
  }

  /** How many descendants the node has, at every depth. */
  getAllChildrenNumber(path: string): Promise<number> {
    return this.#run(GET_ALL_CHILDREN_NUMBER, path);
  }

  /** The identities this session is authenticated as. */
  whoAmI(): Promise<ClientInfo[]> {
    return this.#run(WHO_AM_I);
  }

  /** The ensemble configuration (/zookeeper/config, never under the chroot). A watcher fires when it changes. */
  getConfig(watch?: WatchArg): Promise<NodeData> {
    return this.#run(GET_CONFIG, watch);
  }

  /** Changes the ensemble membership (needs reconfigEnabled and a super user); resolves with the new config. */
  reconfig(options: ReconfigOptions): Promise<NodeData> {
    return this.#run(RECONFIG, options);
  }

  /**
   * Follows a new ensemble membership (the Java client's updateServerList),
   * typically the client addresses of a config from getConfig after a
   * reconfig: `host:port[,host:port...]` (a chroot part is ignored; the
   * session keeps its own). Load is rebalanced probabilistically, as the Java
   * client does: a client whose server left the list always moves; when
   * servers were added, each client moves to one of them with probability
   * 1 - old/new. Moving drops the connection and reconnects with the same
   * session (Disconnected, then SyncConnected).
   * @example zk.updateServerList('10.0.0.1:2181,10.0.0.2:2181,10.0.0.4:2181')
   */
  updateServerList(connectString: string): void {
    const cs = parseConnectString(connectString);
    const conn = this.#connection;
    const current = conn.isReady ? conn.currentHost : null;
    if (conn.hosts.updateServerList(cs.hosts, current)) conn.dropConnection('moving to another server after updateServerList');
  }

  /**
   * Adds credentials to the session (`addAuthInfo('digest', 'user:pass')`, or
   * `addAuthInfo({ scheme, auth })`); they are re-sent after every reconnect.
   * Resolves when the server accepted them; an unknown scheme fails the
   * whole handle with AuthFailed, as in Java.
   */
  addAuthInfo(scheme: string, auth: Buffer | string): Promise<void>;
  addAuthInfo(info: AuthData): Promise<void>;
  async addAuthInfo(schemeOrInfo: string | AuthData, auth?: Buffer | string): Promise<void> {
    try {
      const given: AuthData =
        schemeOrInfo !== null && typeof schemeOrInfo === 'object' ? schemeOrInfo : { scheme: schemeOrInfo, auth: auth as Buffer | string };
      const info = authInfo(given.scheme, given.auth);
      if (!this.#connection.isAlive) throw this.#connection.deadError();
      const done = new Promise<void>((resolve, reject) => info.waiters.push({ resolve, reject }));
      this.#session.authInfo.push(info);
      this.#connection.sendAuth(info);
      return await done;
    } catch (e) {
      throw restack(e);
    }
  }

  /** Closes the session (closeSession, then the socket). Ephemeral nodes go at once. Idempotent. */
  async close(): Promise<void> {
    await this.#session.close(Math.max(1000, Math.min(this.#connection.negotiatedTimeout || 2000, 5000)));
  }

  /** Runs one operation; a failure is re-stacked here so that the caller's await shows in its stack. */
  async #run(op: Operation, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<any> {
    try {
      return await this.#session.call(op, a, b, c, d);
    } catch (e) {
      throw restack(e);
    }
  }
}

/** Checks and copies credentials given as plain data. */
function authInfo(scheme: unknown, auth: unknown): AuthInfo {
  if (typeof scheme !== 'string' || scheme === '') throw new BadArgumentsError('auth scheme must be a non-empty string');
  if (typeof auth === 'string') return { scheme, auth: Buffer.from(auth), waiters: [] };
  if (auth instanceof Uint8Array) return { scheme, auth: Buffer.from(auth), waiters: [] };
  throw new BadArgumentsError(`auth for scheme ${scheme} must be a string or a Buffer`);
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadArgumentsError(`${name} must be a finite number >= 0 (got ${v})`);
  return v;
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new BadArgumentsError(`${name} must be a finite number > 0 (got ${v})`);
  return v;
}

function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new BadArgumentsError(`${name} must be an integer > 0 (got ${v})`);
  return v;
}

export { Transaction } from './ops';
