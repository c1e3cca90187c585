/**
 * The ZooKeeper handle: a promise API over one session, with the Java
 * client's semantics.
 *
 * @example
 *   const zk = new ZooKeeper('127.0.0.1:2181/app', { sessionTimeout: 10_000 });
 *   await zk.connected();
 *   await zk.create('/x', Buffer.from('v'), { mode: CreateMode.EPHEMERAL });
 *   const { data, stat } = await zk.getData('/x', (event) => console.log(event));
 *   await zk.close();
 *
 * Every method validates its arguments first (a bad path rejects with
 * BadArgumentsError and nothing is sent), then sends one request. Replies,
 * watch events and state changes are delivered in server order through one
 * serial queue (event-queue.ts); watches are kept client-side
 * (watch-manager.ts) and re-registered after a reconnect (connection.ts).
 *
 * Events: 'state' (state: KeeperState) for every state change; 'error'
 * (err: KeeperError) when no server could be reached within connectTimeout
 * (only emitted when someone listens, so an unhandled 'error' never crashes
 * a process that awaits connected() instead); 'watcherError' (err) when a
 * watcher or state listener throws or rejects.
 */
import { EventEmitter } from 'events';
import type * as tls from 'tls';
import { DEFAULT_MAX_BUFFER, JuteReader, Record } from '../jute';
import { AddWatchMode, CreateMode, ErrorCode, EventType, KeeperState, OpCode, WatcherType } from '../proto/constants';
// Records from their defining modules, not the generated index: its `export *`
// re-exports are getters, paid on every use in the request hot path.
import { ACL, ClientInfo, Stat } from '../proto/generated/data';
import {
  AddWatchRequest,
  CheckWatchesRequest,
  Create2Response,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildren2Response,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SyncRequest,
  SyncResponse,
  WatcherEvent,
  WhoAmIResponse,
} from '../proto/generated/proto';
import { Ids } from '../proto/ids';
import { ConnectString, parseConnectString, toClientPath, toServerPath } from './connect-string';
import { AuthInfo, Connection, Request, RW_PROBE_MAX_INTERVAL, RW_PROBE_MIN_INTERVAL, SaslOptions, SessionHandler } from './connection';
import { BadArgumentsError, KeeperError, NoWatcherError, restack } from './errors';
import { EventQueue, runHandlers } from './event-queue';
import { HostProvider } from './host-provider';
import {
  CreateOptions,
  Data,
  Op,
  OpResult,
  checkAcl,
  checkCreate,
  checkOps,
  checkPath,
  createOpcode,
  multiFailure,
  readMultiResponse,
  toBuffer,
  writeMulti,
} from './ops';
import { Watcher, WatchedEvent, WatchKind, WatchManager } from './watch-manager';

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
  rwProbeInterval?: { initial?: number; max?: number };
  /**
   * Java's zookeeper.request.timeout: when > 0, a call without a reply this
   * many ms after it was made fails with RequestTimeoutError (code -122) and
   * the connection is dropped and re-established (the other calls sent on
   * it fail with ConnectionLoss). Default 0: wait as long as the
   * connection lives.
   */
  requestTimeout?: number;
  /** Re-attach to an existing session (with sessionPassword). */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Auth to add before anything else (re-sent after every reconnect). */
  authInfo?: { scheme: string; auth: Buffer | string }[];
  /** SASL DIGEST-MD5 credentials (the server needs a JAAS Server section and the SASL auth provider). */
  sasl?: SaslOptions;
  /** Connect with TLS to a secure client port; node's tls.connect options (ca, cert, key, servername, rejectUnauthorized...). */
  tls?: tls.ConnectionOptions;
  /** Largest frame accepted from the server, as jute.maxbuffer (default 0xfffff, plus 1 KB for headers). */
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

/** A watch argument: a function, or `true` for the default watcher. */
export type WatchArg = Watcher | boolean | null | undefined;

export interface Create2Result {
  path: string;
  stat: Stat;
}

export interface ReconfigOptions {
  /** Servers to add, `server.N=host:port:port[:role];clientPort` joined by commas. */
  joining?: string | null;
  /** Server ids to remove, comma-separated. */
  leaving?: string | null;
  /** A whole new membership (non-incremental reconfig). */
  newMembers?: string | null;
  /** Only apply if the current config version is this (default -1: any). */
  fromConfig?: bigint | number;
}

const CONFIG_NODE = '/zookeeper/config';

// What a request's `extra` carries for the replies that need more than the opcode.
const CREATE_PATH_ONLY = 0;
const CREATE_WITH_STAT = 1;
interface RemovalArgs {
  watcher: Watcher | null;
  type: WatcherType;
  local: boolean;
}

export class ZooKeeper extends EventEmitter implements SessionHandler {
  /** The chroot from the connect string ('' when none). */
  readonly chroot: string;
  private readonly connection: Connection;
  private readonly watches = new WatchManager();
  private readonly queue: EventQueue;
  private readonly authInfo: AuthInfo[] = [];
  private readonly defaultWatcher: Watcher | null;
  private readonly usesSasl: boolean;
  private _state: KeeperState = KeeperState.Disconnected;
  /** Handshake done (and SASL, when configured): connected() may resolve. */
  private ready = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly options: ZooKeeperOptions;
  private readonly onHandlerError = (err: unknown) => this.reportHandlerError(err);

  constructor(connectString: string, options: ZooKeeperOptions = {}) {
    super();
    this.options = options;
    const cs: ConnectString = parseConnectString(connectString);
    this.chroot = cs.chroot;
    this.defaultWatcher = options.defaultWatcher ?? null;
    this.usesSasl = options.sasl != null;
    if (options.sasl && options.sasl.mechanism !== 'DIGEST-MD5') {
      throw new BadArgumentsError(`unsupported SASL mechanism ${options.sasl.mechanism} (only DIGEST-MD5)`);
    }
    if (options.sessionId !== undefined && options.sessionPassword === undefined) {
      throw new BadArgumentsError('sessionId needs sessionPassword');
    }
    for (const a of options.authInfo ?? []) {
      this.authInfo.push({ scheme: a.scheme, auth: typeof a.auth === 'string' ? Buffer.from(a.auth) : a.auth, waiters: [] });
    }
    this.queue = new EventQueue(this.onHandlerError);
    const sessionTimeout = options.sessionTimeout ?? 10_000;
    const hosts = new HostProvider(cs.hosts, { random: options.random, shuffle: options.shuffleHosts });
    this.connection = new Connection(
      hosts,
      {
        sessionTimeout,
        connectTimeout: options.connectTimeout ?? 15_000,
        canBeReadOnly: options.canBeReadOnly ?? false,
        sessionId: options.sessionId ?? 0n,
        sessionPassword: options.sessionPassword ?? null,
        maxBufferSize: options.maxBufferSize ?? DEFAULT_MAX_BUFFER,
        tls: options.tls ?? null,
        sasl: options.sasl ?? null,
        localSessionExpiry: options.localSessionExpiry ?? true,
        requestTimeout: nonNegative('requestTimeout', options.requestTimeout ?? 0),
        rwProbeMinInterval: positive('rwProbeInterval.initial', options.rwProbeInterval?.initial ?? RW_PROBE_MIN_INTERVAL),
        rwProbeMaxInterval: positive('rwProbeInterval.max', options.rwProbeInterval?.max ?? RW_PROBE_MAX_INTERVAL),
      },
      this,
      this.watches,
      this.authInfo,
    );
    this.connection.start();
  }

  // ---- session facts ----------------------------------------------------

  /** The session id (0n until the first handshake). */
  get sessionId(): bigint {
    return this.connection.sessionId;
  }

  /** The session password (to re-attach with `sessionId` from another handle). */
  get sessionPassword(): Buffer {
    return this.connection.sessionPassword;
  }

  /** The session timeout the server granted (0 until the first handshake). */
  get negotiatedTimeout(): number {
    return this.connection.negotiatedTimeout;
  }

  /** The current state: Disconnected (also while connecting), SyncConnected, ConnectedReadOnly, Expired, AuthFailed or Closed. */
  get state(): KeeperState {
    return this._state;
  }

  /** The largest zxid seen in a reply. */
  get lastZxid(): bigint {
    return this.connection.lastZxid;
  }

  /** The server currently (or last) connected to. */
  get currentHost(): { host: string; port: number } | null {
    return this.connection.currentHost;
  }

  /**
   * Resolves when the handle is connected (SyncConnected or ConnectedReadOnly,
   * after SASL when configured). Rejects with ConnectionLossError when no
   * server was reachable within connectTimeout, SessionExpiredError after
   * expiry or close, AuthFailedError after an authentication failure.
   */
  connected(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (!this.connection.isAlive) return Promise.reject(restack(this.connection.deadError()));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  // ---- operations -------------------------------------------------------

  /** Creates a node; resolves with its path (with the sequence suffix for sequential modes). */
  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    try {
      return await this.submitCreate(path, data, options, CREATE_PATH_ONLY);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Creates a node; resolves with its path and Stat (Java's create(..., stat)). */
  async create2(path: string, data?: Data, options: CreateOptions = {}): Promise<Create2Result> {
    try {
      return await this.submitCreate(path, data, options, CREATE_WITH_STAT);
    } catch (e) {
      throw restack(e);
    }
  }

  private submitCreate(path: string, data: Data, options: CreateOptions, want: number): Promise<any> {
    const mode = options.mode ?? CreateMode.PERSISTENT;
    const acl = options.acl ?? Ids.OPEN_ACL_UNSAFE;
    const ttl = options.ttl === undefined || options.ttl === null ? -1n : BigInt(options.ttl);
    checkCreate(path, mode, acl, ttl);
    const buf = toBuffer(data);
    const serverPath = this.toServer(path);
    const type = createOpcode(mode);
    const record: Record =
      type === OpCode.createTTL
        ? new CreateTTLRequest({ path: serverPath, data: buf, acl, flags: mode, ttl })
        : new CreateRequest({ path: serverPath, data: buf, acl, flags: mode });
    const req = new Request(type, record, path, serverPath);
    req.extra = want;
    return this.send(req);
  }

  /** Deletes a node; version -1 matches any. */
  async delete(path: string, version = -1): Promise<void> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.delete, new DeleteRequest({ path: serverPath, version }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** The node's Stat, or null when it does not exist. A watcher fires on its creation, deletion or data change. */
  async exists(path: string, watch?: WatchArg): Promise<Stat | null> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      const watcher = this.watcherOf(watch);
      const req = new Request(OpCode.exists, new ExistsRequest({ path: serverPath, watch: watcher !== null }), path, serverPath);
      req.watcher = watcher;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** The node's data and Stat. A watcher fires on its deletion or data change. */
  async getData(path: string, watch?: WatchArg): Promise<{ data: Buffer | null; stat: Stat }> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      const watcher = this.watcherOf(watch);
      const req = new Request(OpCode.getData, new GetDataRequest({ path: serverPath, watch: watcher !== null }), path, serverPath);
      req.watcher = watcher;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Sets the node's data; version -1 matches any. Resolves with the new Stat. */
  async setData(path: string, data: Data, version = -1): Promise<Stat> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      const record = new SetDataRequest({ path: serverPath, data: toBuffer(data), version });
      return await this.send(new Request(OpCode.setData, record, path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** The node's ACL and Stat. */
  async getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.getACL, new GetACLRequest({ path: serverPath }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** Replaces the node's ACL; version (the ACL version, aversion) -1 matches any. Resolves with the new Stat. */
  async setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    try {
      checkPath(path);
      checkAcl(acl, path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.setACL, new SetACLRequest({ path: serverPath, acl, version }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** The node's children (names, unsorted). A watcher fires on a child change or the node's deletion. */
  async getChildren(path: string, watch?: WatchArg): Promise<string[]> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      const watcher = this.watcherOf(watch);
      const req = new Request(OpCode.getChildren, new GetChildrenRequest({ path: serverPath, watch: watcher !== null }), path, serverPath);
      req.watcher = watcher;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** The node's children and its Stat (getChildren2). */
  async getChildren2(path: string, watch?: WatchArg): Promise<{ children: string[]; stat: Stat }> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      const watcher = this.watcherOf(watch);
      const req = new Request(OpCode.getChildren2, new GetChildren2Request({ path: serverPath, watch: watcher !== null }), path, serverPath);
      req.watcher = watcher;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Waits until the connected server has caught up with the leader (for the path's subtree). */
  async sync(path: string): Promise<string> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.sync, new SyncRequest({ path: serverPath }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /**
   * Applies create/delete/setData/check ops atomically. Resolves with one
   * result per op. On failure nothing was applied and the promise rejects
   * with the failing op's KeeperError subclass, carrying `opIndex` and all
   * per-op `results`.
   */
  async multi(ops: Op[]): Promise<OpResult[]> {
    try {
      checkOps(ops, false);
      const req = new Request(OpCode.multi, this.multiRecord(ops), undefined, undefined);
      req.extra = ops;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Reads several nodes in one round trip (getData/getChildren ops); each result is a value or an error result. */
  async multiRead(ops: Op[]): Promise<OpResult[]> {
    try {
      checkOps(ops, true);
      const req = new Request(OpCode.multiRead, this.multiRecord(ops), undefined, undefined);
      req.extra = ops;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** A transaction builder: `await zk.transaction().create(...).delete(...).commit()`. */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /** Adds a persistent (or persistent-recursive) watch; it stays until removed. */
  async addWatch(path: string, watcher: Watcher, mode: AddWatchMode = AddWatchMode.PERSISTENT): Promise<void> {
    try {
      checkPath(path);
      if (typeof watcher !== 'function') throw new BadArgumentsError('addWatch needs a watcher function', path);
      if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
        throw new BadArgumentsError(`unknown AddWatchMode ${mode}`, path);
      }
      const serverPath = this.toServer(path);
      const req = new Request(OpCode.addWatch, new AddWatchRequest({ path: serverPath, mode }), path, serverPath);
      req.watcher = watcher;
      req.extra = mode;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /**
   * Removes one watcher function of a kind (WatcherType) from a path. The
   * removed watcher gets a DataWatchRemoved / ChildWatchRemoved /
   * PersistentWatchRemoved event. With `local`, the watcher is removed from
   * this client even if the server cannot be asked (disconnected) or refuses.
   * Rejects with NoWatcherError when no such watcher is registered.
   */
  async removeWatches(path: string, watcher: Watcher, type: WatcherType = WatcherType.Any, local = false): Promise<void> {
    try {
      if (typeof watcher !== 'function') throw new BadArgumentsError('removeWatches needs the watcher function; use removeAllWatches', path);
      return await this.submitRemoval(OpCode.checkWatches, path, watcher, type, local);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Removes every watcher of a kind from a path, here and on the server (see removeWatches). */
  async removeAllWatches(path: string, type: WatcherType = WatcherType.Any, local = false): Promise<void> {
    try {
      return await this.submitRemoval(OpCode.removeWatches, path, null, type, local);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Asks the server whether this session has a watch of a kind on a path (rejects with NoWatcherError if not); changes nothing. */
  async checkWatches(path: string, type: WatcherType = WatcherType.Any): Promise<void> {
    try {
      checkPath(path);
      checkWatcherType(type, path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.checkWatches, new CheckWatchesRequest({ path: serverPath, type }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  private submitRemoval(opcode: number, path: string, watcher: Watcher | null, type: WatcherType, local: boolean): Promise<void> {
    checkPath(path);
    checkWatcherType(type, path);
    const serverPath = this.toServer(path);
    if (!this.watches.contains(serverPath, watcher, type)) throw new NoWatcherError(undefined, path);
    const args: RemovalArgs = { watcher, type, local };
    if (local && !this.connection.isReady) {
      this.removeLocally(path, serverPath, args);
      return Promise.resolve();
    }
    const record =
      opcode === OpCode.checkWatches
        ? new CheckWatchesRequest({ path: serverPath, type })
        : new RemoveWatchesRequest({ path: serverPath, type });
    const req = new Request(opcode, record, path, serverPath);
    req.extra = args;
    return this.send(req);
  }

  private removeLocally(path: string, serverPath: string, args: RemovalArgs): void {
    for (const group of this.watches.remove(serverPath, args.watcher, args.type)) {
      const event: WatchedEvent = { type: group.type, state: KeeperState.SyncConnected, path };
      const watchers = group.watchers;
      this.queue.event(() => runHandlers(watchers, event, this.onHandlerError));
    }
  }

  /** The paths of this session's ephemeral nodes under a prefix (a path prefix, not only a parent). */
  async getEphemerals(prefixPath = '/'): Promise<string[]> {
    try {
      checkPath(prefixPath);
      const serverPath = this.toServer(prefixPath);
      return await this.send(new Request(OpCode.getEphemerals, new GetEphemeralsRequest({ prefixPath: serverPath }), prefixPath, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** How many descendants the node has, at every depth. */
  async getAllChildrenNumber(path: string): Promise<number> {
    try {
      checkPath(path);
      const serverPath = this.toServer(path);
      return await this.send(new Request(OpCode.getAllChildrenNumber, new GetAllChildrenNumberRequest({ path: serverPath }), path, serverPath));
    } catch (e) {
      throw restack(e);
    }
  }

  /** The identities this session is authenticated as. */
  async whoAmI(): Promise<ClientInfo[]> {
    try {
      return await this.send(new Request(OpCode.whoAmI, null, undefined, undefined));
    } catch (e) {
      throw restack(e);
    }
  }

  /** The ensemble configuration (/zookeeper/config, never under the chroot). A watcher fires when it changes. */
  async getConfig(watch?: WatchArg): Promise<{ data: Buffer | null; stat: Stat }> {
    try {
      const watcher = this.watcherOf(watch);
      const req = new Request(OpCode.getData, new GetDataRequest({ path: CONFIG_NODE, watch: watcher !== null }), CONFIG_NODE, CONFIG_NODE);
      req.watcher = watcher;
      return await this.send(req);
    } catch (e) {
      throw restack(e);
    }
  }

  /** Changes the ensemble membership (needs reconfigEnabled and a super user); resolves with the new config. */
  async reconfig(options: ReconfigOptions): Promise<{ data: Buffer | null; stat: Stat }> {
    try {
      const record = new ReconfigRequest({
        joiningServers: (options.joining ?? null) as string,
        leavingServers: (options.leaving ?? null) as string,
        newMembers: (options.newMembers ?? null) as string,
        curConfigId: BigInt(options.fromConfig ?? -1),
      });
      return await this.send(new Request(OpCode.reconfig, record, CONFIG_NODE, CONFIG_NODE));
    } catch (e) {
      throw restack(e);
    }
  }

  /**
   * Adds credentials to the session (e.g. `addAuthInfo('digest', 'user:pass')`);
   * they are re-sent after every reconnect. Resolves when the server accepted
   * them; an unknown scheme fails the whole handle with AuthFailed, as in Java.
   */
  async addAuthInfo(scheme: string, auth: Buffer | string): Promise<void> {
    try {
      if (typeof scheme !== 'string' || scheme === '') throw new BadArgumentsError('auth scheme must be a non-empty string');
      if (!this.connection.isAlive) throw this.connection.deadError();
      const info: AuthInfo = { scheme, auth: typeof auth === 'string' ? Buffer.from(auth) : auth, waiters: [] };
      const done = new Promise<void>((resolve, reject) => info.waiters.push({ resolve, reject }));
      this.authInfo.push(info);
      this.connection.sendAuth(info);
      return await done;
    } catch (e) {
      throw restack(e);
    }
  }

  /** Closes the session (closeSession, then the socket). Ephemeral nodes go at once. Idempotent. */
  async close(): Promise<void> {
    const req = new Request(OpCode.closeSession, null, undefined, undefined);
    req.resolve = noop;
    req.reject = noop;
    await this.connection.close(req, Math.max(1000, Math.min(this.connection.negotiatedTimeout || 2000, 5000)));
  }

  /** Drops the current connection as a network failure would (the handle reconnects). For tests and harnesses. */
  dropConnection(): void {
    this.connection.dropConnection();
  }

  // ---- plumbing -----------------------------------------------------------

  private toServer(path: string): string {
    return this.chroot === '' ? path : toServerPath(this.chroot, path);
  }

  private toClient(serverPath: string): string {
    return this.chroot === '' ? serverPath : toClientPath(this.chroot, serverPath);
  }

  private watcherOf(watch: WatchArg): Watcher | null {
    if (watch === undefined || watch === null || watch === false) return null;
    if (watch === true) {
      if (this.defaultWatcher === null) throw new BadArgumentsError('watch: true needs a defaultWatcher option');
      return this.defaultWatcher;
    }
    if (typeof watch !== 'function') throw new BadArgumentsError('a watcher must be a function');
    return watch;
  }

  private multiRecord(ops: Op[]): Record {
    const toServer = (p: string) => this.toServer(p);
    return {
      serialize: (w) => writeMulti(w, ops, toServer),
      deserialize() {
        throw new Error('a multi request is only encoded');
      },
    };
  }

  private send(req: Request): Promise<any> {
    const p = new Promise<any>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    req.bypass = this.queue.inHandler;
    this.connection.submit(req);
    return p;
  }

  /** @internal SessionHandler: decodes a reply, registers watches, settles the promise in order. */
  complete(req: Request, err: number, r: JuteReader): void {
    const type = req.type;
    if (type === OpCode.checkWatches || type === OpCode.removeWatches) {
      if (req.extra !== null) this.completeRemoval(req, err);
      else this.settle(req, err, undefined);
      return;
    }
    if (err !== ErrorCode.OK) {
      if (type === OpCode.exists && err === ErrorCode.NONODE) {
        if (req.watcher !== null) this.watches.add(WatchKind.Exist, req.serverPath!, req.watcher as Watcher);
        this.queue.reply(req.resolve, null, req.bypass);
        return;
      }
      this.queue.reply(req.reject, KeeperError.create(err, req.path), req.bypass);
      return;
    }
    let value: unknown;
    switch (type) {
      case OpCode.getData:
      case OpCode.reconfig: {
        const res = GetDataResponse.decode(r);
        if (req.watcher !== null) this.watches.add(WatchKind.Data, req.serverPath!, req.watcher as Watcher);
        value = { data: res.data, stat: res.stat };
        break;
      }
      case OpCode.exists:
        value = Stat.decode(r);
        if (req.watcher !== null) this.watches.add(WatchKind.Data, req.serverPath!, req.watcher as Watcher);
        break;
      case OpCode.setData:
      case OpCode.setACL:
        value = Stat.decode(r);
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer: {
        const res = Create2Response.decode(r);
        const path = this.toClient(res.path);
        value = req.extra === CREATE_WITH_STAT ? { path, stat: res.stat } : path;
        break;
      }
      case OpCode.delete:
      case OpCode.closeSession:
      case OpCode.addWatch:
        if (type === OpCode.addWatch) {
          const kind = req.extra === AddWatchMode.PERSISTENT_RECURSIVE ? WatchKind.PersistentRecursive : WatchKind.Persistent;
          this.watches.add(kind, req.serverPath!, req.watcher as Watcher);
        }
        value = undefined;
        break;
      case OpCode.getChildren: {
        const res = GetChildrenResponse.decode(r);
        if (req.watcher !== null) this.watches.add(WatchKind.Child, req.serverPath!, req.watcher as Watcher);
        value = res.children;
        break;
      }
      case OpCode.getChildren2: {
        const res = GetChildren2Response.decode(r);
        if (req.watcher !== null) this.watches.add(WatchKind.Child, req.serverPath!, req.watcher as Watcher);
        value = { children: res.children, stat: res.stat };
        break;
      }
      case OpCode.getACL: {
        const res = GetACLResponse.decode(r);
        value = { acl: res.acl, stat: res.stat };
        break;
      }
      case OpCode.sync:
        value = this.toClient(SyncResponse.decode(r).path);
        break;
      case OpCode.multi: {
        const ops = req.extra as Op[];
        const results = readMultiResponse(r, ops, (p) => this.toClient(p));
        const failure = multiFailure(results, ops);
        if (failure) {
          this.queue.reply(req.reject, failure, req.bypass);
          return;
        }
        value = results;
        break;
      }
      case OpCode.multiRead:
        value = readMultiResponse(r, req.extra as Op[], (p) => this.toClient(p));
        break;
      case OpCode.getEphemerals:
        value = GetEphemeralsResponse.decode(r).ephemerals.map((p) => this.toClient(p));
        break;
      case OpCode.getAllChildrenNumber:
        value = r.readInt();
        break;
      case OpCode.whoAmI:
        value = WhoAmIResponse.decode(r).clientInfo;
        break;
      default:
        throw new Error(`no decoder for opcode ${type}`);
    }
    this.queue.reply(req.resolve, value, req.bypass);
  }

  private settle(req: Request, err: number, value: unknown): void {
    if (err === ErrorCode.OK) this.queue.reply(req.resolve, value, req.bypass);
    else this.queue.reply(req.reject, KeeperError.create(err, req.path), req.bypass);
  }

  /** The Java client's WatchDeregistration: local removal after the server's answer (or regardless, with `local`). */
  private completeRemoval(req: Request, err: number): void {
    const args = req.extra as RemovalArgs;
    if (err !== ErrorCode.OK && !args.local) {
      this.queue.reply(req.reject, KeeperError.create(err, req.path), req.bypass);
      return;
    }
    if (!this.watches.contains(req.serverPath!, args.watcher, args.type)) {
      this.queue.reply(req.reject, new NoWatcherError(undefined, req.path), req.bypass);
      return;
    }
    this.removeLocally(req.path!, req.serverPath!, args);
    this.queue.reply(req.resolve, undefined, req.bypass);
  }

  /** @internal SessionHandler: settles a request with an error. */
  fail(req: Request, err: KeeperError): void {
    if ((req.type === OpCode.checkWatches || req.type === OpCode.removeWatches) && req.extra !== null && (req.extra as RemovalArgs).local) {
      // A local removal succeeds without the server (Java ignores ConnectionLoss there).
      this.completeRemoval(req, ErrorCode.OK);
      return;
    }
    this.queue.reply(req.reject, err, req.bypass);
  }

  /** @internal SessionHandler: a server watch event. */
  onWatchEvent(ev: WatcherEvent): void {
    const watchers = this.watches.materialize(ev.type as EventType, ev.path);
    if (watchers.length === 0) return;
    const event: WatchedEvent = { type: ev.type as EventType, state: ev.state as KeeperState, path: this.toClient(ev.path) };
    this.queue.event(() => runHandlers(watchers, event, this.onHandlerError));
  }

  /** @internal SessionHandler: a state change. */
  onState(state: KeeperState, cause?: Error): void {
    if (state !== KeeperState.SaslAuthenticated) this._state = state;
    const connectedNow = state === KeeperState.SyncConnected || state === KeeperState.ConnectedReadOnly;
    const dead = state === KeeperState.Expired || state === KeeperState.AuthFailed || state === KeeperState.Closed;
    if (connectedNow) this.ready = !this.usesSasl;
    else if (state === KeeperState.SaslAuthenticated) this.ready = true;
    else this.ready = false;

    const event: WatchedEvent = { type: EventType.None, state, path: null };
    const targets = this.watches.all();
    if (this.defaultWatcher !== null && !targets.includes(this.defaultWatcher)) targets.unshift(this.defaultWatcher);
    const listeners = this.listeners('state') as ((state: KeeperState, event: WatchedEvent) => unknown)[];
    const handlers: ((e: WatchedEvent) => unknown)[] = [...targets, ...listeners.map((l) => (e: WatchedEvent) => l(e.state, e))];
    this.queue.event(() => runHandlers(handlers, event, this.onHandlerError));
    if (dead) this.watches.clear();

    if (this.ready || dead) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) {
        if (this.ready) this.queue.reply(w.resolve, undefined, false);
        else this.queue.reply(w.reject, this.connection.deadError(), false);
      }
    }
    void cause;
  }

  /** @internal SessionHandler: nobody reachable within connectTimeout. */
  onUnreachable(err: KeeperError): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) this.queue.reply(w.reject, err, false);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private reportHandlerError(err: unknown): void {
    if (this.listenerCount('watcherError') > 0) this.emit('watcherError', err);
    else process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'ZooKeeperWatcherError');
  }
}

function checkWatcherType(type: number, path: string): void {
  if (!Number.isInteger(type) || type < WatcherType.Children || type > WatcherType.PersistentRecursive) {
    throw new BadArgumentsError(`unknown WatcherType ${type}`, path);
  }
}

function noop(): void {}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadArgumentsError(`${name} must be a finite number >= 0 (got ${v})`);
  return v;
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new BadArgumentsError(`${name} must be a finite number > 0 (got ${v})`);
  return v;
}

/** Collects ops for one multi(): `zk.transaction().check('/a', 1).setData('/a', d).commit()`. */
export class Transaction {
  private readonly ops: Op[] = [];
  constructor(private readonly zk: ZooKeeper) {}
  create(path: string, data?: Data, options?: CreateOptions): this {
    this.ops.push(Op.create(path, data, options));
    return this;
  }
  delete(path: string, version = -1): this {
    this.ops.push(Op.delete(path, version));
    return this;
  }
  setData(path: string, data: Data, version = -1): this {
    this.ops.push(Op.setData(path, data, version));
    return this;
  }
  check(path: string, version: number): this {
    this.ops.push(Op.check(path, version));
    return this;
  }
  commit(): Promise<OpResult[]> {
    return this.zk.multi(this.ops);
  }
}
