/**
 * The inside of a ZooKeeper handle, kept off its public type: runs the
 * operations of operations.ts over the connection, decodes replies,
 * registers watches, and turns server events and state changes into
 * deliveries on the one serial event queue (event-queue.ts).
 */
import type { EventEmitter } from 'events';
import type { JuteReader } from '../jute/reader';
import { EventType, ErrorCode, KeeperState, WatcherType } from '../proto/constants';
import type { WatcherEvent } from '../proto/generated/proto';
import { toClientPath, toServerPath } from './connect-string';
import { AuthInfo, Connection, Request, SessionHandler } from './connection';
import { BadArgumentsError, KeeperError } from './errors';
import { EventQueue, runHandlers } from './event-queue';
import { CLOSE_SESSION, Operation, OpContext, WatchArg } from './operations';
import { Watcher, WatchedEvent, WatchManager } from './watch-manager';
import { NamedWatchedEvent } from './watched-event';

/** The 'state' listener's signature. */
type StateListener = (state: KeeperState, event: WatchedEvent) => unknown;

export class Session implements SessionHandler, OpContext {
  readonly watches = new WatchManager();
  readonly queue: EventQueue;
  readonly authInfo: AuthInfo[] = [];
  connection!: Connection;
  state: KeeperState = KeeperState.Disconnected;
  /** Handshake done (and SASL, when configured): connected() may resolve. */
  ready = false;
  waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly onHandlerError = (err: unknown) => this.reportHandlerError(err);

  constructor(
    /** The handle, for its 'state', 'error' and 'watcherError' listeners. */
    private readonly emitter: EventEmitter,
    readonly chroot: string,
    private readonly defaultWatcher: Watcher | null,
    private readonly usesSasl: boolean,
  ) {
    this.queue = new EventQueue(this.onHandlerError);
  }

  // ---- running operations ---------------------------------------------

  /** Builds and sends one operation; resolves with its decoded result. */
  call(op: Operation, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<any> {
    const req = op.build(this, a, b, c, d);
    if (req === null) return Promise.resolve(undefined);
    return this.send(req);
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

  /** Sends closeSession through the connection's close (no caller awaits its reply). */
  close(timeout: number): Promise<void> {
    const req = CLOSE_SESSION.build(this)!;
    req.resolve = noop;
    req.reject = noop;
    return this.connection.close(req, timeout);
  }

  // ---- OpContext ----------------------------------------------------------

  get isReady(): boolean {
    return this.connection.isReady;
  }

  toServer(path: string): string {
    return this.chroot === '' ? path : toServerPath(this.chroot, path);
  }

  toClient(serverPath: string): string {
    return this.chroot === '' ? serverPath : toClientPath(this.chroot, serverPath);
  }

  watcherOf(watch: WatchArg): Watcher | null {
    if (watch === undefined || watch === null || watch === false) return null;
    if (watch === true) {
      if (this.defaultWatcher === null) throw new BadArgumentsError('watch: true needs a defaultWatcher option');
      return this.defaultWatcher;
    }
    if (typeof watch !== 'function') throw new BadArgumentsError('a watcher must be a function');
    return watch;
  }

  removeLocally(path: string, serverPath: string, watcher: Watcher | null, type: WatcherType): void {
    for (const group of this.watches.remove(serverPath, watcher, type)) {
      const event = new NamedWatchedEvent(group.type, KeeperState.SyncConnected, path);
      const watchers = group.watchers;
      this.queue.event(() => runHandlers(watchers, event, this.onHandlerError));
    }
  }

  resolve(req: Request, value: unknown): void {
    this.queue.reply(req.resolve, value, req.bypass);
  }

  reject(req: Request, err: KeeperError): void {
    this.queue.reply(req.reject, err, req.bypass);
  }

  // ---- SessionHandler -------------------------------------------------------

  /** Decodes a reply, registers its watch, settles the promise in order. */
  complete(req: Request, err: number, r: JuteReader): void {
    const op = req.op as Operation;
    if (op.onReply !== undefined) {
      op.onReply(this, req, err);
      return;
    }
    if (err !== ErrorCode.OK) {
      if (err === ErrorCode.NONODE && op.absent !== undefined) {
        if (req.watcher !== null) this.watches.add(op.absent, req.serverPath!, req.watcher);
        this.queue.reply(req.resolve, null, req.bypass);
        return;
      }
      this.queue.reply(req.reject, KeeperError.create(err, req.path), req.bypass);
      return;
    }
    const value = op.decode(r, req, this);
    if (op.failure !== undefined) {
      const failure = op.failure(value, req);
      if (failure !== null) {
        this.queue.reply(req.reject, failure, req.bypass);
        return;
      }
    }
    if (req.watcher !== null) this.watches.add(req.watchKind, req.serverPath!, req.watcher);
    this.queue.reply(req.resolve, value, req.bypass);
  }

  /** Settles a request with an error. */
  fail(req: Request, err: KeeperError): void {
    const op = req.op as Operation | null;
    if (op !== null && op.onFail !== undefined) op.onFail(this, req, err);
    else this.queue.reply(req.reject, err, req.bypass);
  }

  /** A server watch event. */
  onWatchEvent(ev: WatcherEvent): void {
    const watchers = this.watches.materialize(ev.type as EventType, ev.path);
    if (watchers.length === 0) return;
    const event = new NamedWatchedEvent(ev.type as EventType, ev.state as KeeperState, this.toClient(ev.path));
    this.queue.event(() => runHandlers(watchers, event, this.onHandlerError));
  }

  /** A state change: every watcher, the default watcher and the 'state' listeners hear it. */
  onState(state: KeeperState): void {
    if (state !== KeeperState.SaslAuthenticated) this.state = state;
    const connectedNow = state === KeeperState.SyncConnected || state === KeeperState.ConnectedReadOnly;
    const dead = state === KeeperState.Expired || state === KeeperState.AuthFailed || state === KeeperState.Closed;
    if (connectedNow) this.ready = !this.usesSasl;
    else if (state === KeeperState.SaslAuthenticated) this.ready = true;
    else this.ready = false;

    const event = new NamedWatchedEvent(EventType.None, state, null);
    const targets = this.watches.all();
    if (this.defaultWatcher !== null && !targets.includes(this.defaultWatcher)) targets.unshift(this.defaultWatcher);
    const listeners = this.emitter.listeners('state') as StateListener[];
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
  }

  /** Nobody reachable within connectTimeout. */
  onUnreachable(err: KeeperError): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) this.queue.reply(w.reject, err, false);
    if (this.emitter.listenerCount('error') > 0) this.emitter.emit('error', err);
  }

  private reportHandlerError(err: unknown): void {
    if (this.emitter.listenerCount('watcherError') > 0) this.emitter.emit('watcherError', err);
    else process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'ZooKeeperWatcherError');
  }
}

function noop(): void {}
