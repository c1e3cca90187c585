/**
 * The connection-state model every recipe listens to: the five states users
 * know from Curator and kazoo, derived from the handle's raw KeeperState.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { ConnectionState, ConnectionStateTracker } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * const states = ConnectionStateTracker.for(zk);   // one tracker per handle, shared by every recipe
 * states.on('state', (s: ConnectionState) => console.log('now', s));
 * await zk.connected();
 * ```
 *
 * - CONNECTED: the first SyncConnected of the handle.
 * - SUSPENDED: the connection dropped; the session may still live, so
 *   anything held (a lock, leadership) is in doubt until RECONNECTED or LOST.
 * - RECONNECTED: connected again with the SAME session: ephemerals and
 *   holds are intact (one-shot watches were re-registered by the client).
 * - LOST: the session is gone (expired, auth failed, closed, or a reconnect
 *   landed in a different session): every ephemeral of it is gone and
 *   nothing may claim to hold anything taken under it.
 * - READ_ONLY: connected to a server cut off from its quorum: reads only.
 *
 * The client delivers state changes on its serial event queue, so a state is
 * seen in order with the watch events around it.
 */
import { EventEmitter } from 'events';
import { KeeperState, ZooKeeper } from '../../src';

/** Curator/kazoo-style connection states. */
export enum ConnectionState {
  /** The first SyncConnected of the handle. */
  CONNECTED = 'CONNECTED',
  /** The connection dropped; the session may still live, so anything held (a lock, leadership) is in doubt until RECONNECTED or LOST. */
  SUSPENDED = 'SUSPENDED',
  /** Connected again with the same session: ephemerals and holds are intact. */
  RECONNECTED = 'RECONNECTED',
  /** The session is gone (expired, auth failed, closed, or a reconnect landed in another session): its ephemerals are gone and nothing taken under it is held. */
  LOST = 'LOST',
  /** Connected to a server cut off from its quorum: reads only. */
  READ_ONLY = 'READ_ONLY',
}

/** True for the states in which the session is usable for writes (CONNECTED, RECONNECTED). */
export function isConnectedState(s: ConnectionState | null): boolean {
  return s === ConnectionState.CONNECTED || s === ConnectionState.RECONNECTED;
}

const trackers = new WeakMap<ZooKeeper, ConnectionStateTracker>();

/**
 * Maps a handle's raw states to ConnectionState and emits `'state'` on each
 * change. Get it with `ConnectionStateTracker.for(zk)`; every recipe on the
 * same handle shares one tracker.
 */
export class ConnectionStateTracker extends EventEmitter {
  private state: ConnectionState | null;
  private everConnected = false;
  private lastSession = 0n;
  private closed = false;
  private readonly onRaw = (raw: KeeperState): void => this.onKeeperState(raw);

  private constructor(
    /** The handle tracked. */
    readonly zk: ZooKeeper,
  ) {
    super();
    // Recipes and apps attach many listeners (one per lock/latch); that is no leak.
    this.setMaxListeners(0);
    this.state = null;
    // A handle that already had a session and is now disconnected is SUSPENDED, not "never connected".
    if (zk.sessionId !== 0n && zk.state === KeeperState.Disconnected) {
      this.everConnected = true;
      this.lastSession = zk.sessionId;
    }
    this.onKeeperState(zk.state, true);
    zk.on('state', this.onRaw);
  }

  /** The shared tracker of a handle (created on first use). */
  static for(zk: ZooKeeper): ConnectionStateTracker {
    let t = trackers.get(zk);
    if (t === undefined || t.closed) {
      t = new ConnectionStateTracker(zk);
      trackers.set(zk, t);
    }
    return t;
  }

  /** The current state; null before the handle first connected. */
  get current(): ConnectionState | null {
    return this.state;
  }

  /** The session the handle was last connected with (0n before the first connect). */
  get sessionId(): bigint {
    return this.lastSession;
  }

  /** True while connected read/write (CONNECTED or RECONNECTED). */
  isConnected(): boolean {
    return isConnectedState(this.state);
  }

  /** True once the handle's session is gone for good (expired, closed, auth failed). */
  isLost(): boolean {
    return this.state === ConnectionState.LOST && this.dead();
  }

  /**
   * Resolves when connected read/write; rejects with `onLost()` if the
   * handle dies first, on the signal's abort, or after `timeoutMs`.
   */
  whenConnected(timeoutMs?: number, signal?: AbortSignal): Promise<void> {
    if (this.isConnected()) return Promise.resolve();
    if (this.dead()) return Promise.reject(new Error('the ZooKeeper handle is closed or its session expired'));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: unknown): void => {
        this.off('state', onState);
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onState = (): void => {
        if (this.isConnected()) done();
        else if (this.dead()) done(new Error('the ZooKeeper handle is closed or its session expired'));
      };
      const onAbort = (): void => done(signal?.reason ?? new Error('aborted'));
      if (signal?.aborted) return onAbort();
      this.on('state', onState);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined && timeoutMs >= 0) timer = setTimeout(() => done(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  /** Stops tracking the handle (listeners stay attached but get no more events). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.zk.off('state', this.onRaw);
    if (trackers.get(this.zk) === this) trackers.delete(this.zk);
  }

  private dead(): boolean {
    const raw = this.zk.state;
    return raw === KeeperState.Expired || raw === KeeperState.Closed || raw === KeeperState.AuthFailed;
  }

  private onKeeperState(raw: KeeperState, initial = false): void {
    let next: ConnectionState | null = null;
    switch (raw) {
      case KeeperState.SyncConnected: {
        const sid = this.zk.sessionId;
        if (!this.everConnected) {
          next = ConnectionState.CONNECTED;
        } else {
          // A reconnect into another session (the read-only move) means the
          // old session's ephemerals may be gone: say LOST before RECONNECTED.
          if (sid !== this.lastSession && this.state !== ConnectionState.LOST) this.set(ConnectionState.LOST, initial);
          next = ConnectionState.RECONNECTED;
        }
        this.everConnected = true;
        this.lastSession = sid;
        break;
      }
      case KeeperState.ConnectedReadOnly:
        next = ConnectionState.READ_ONLY;
        this.everConnected = true;
        this.lastSession = this.zk.sessionId;
        break;
      case KeeperState.Disconnected:
        // Before the first connect there is nothing to suspend.
        next = this.everConnected && this.state !== ConnectionState.LOST ? ConnectionState.SUSPENDED : null;
        break;
      case KeeperState.Expired:
      case KeeperState.AuthFailed:
      case KeeperState.Closed:
        next = ConnectionState.LOST;
        break;
      default:
        next = null; // SaslAuthenticated and the like change nothing here
    }
    if (next !== null) this.set(next, initial);
    if (next === ConnectionState.LOST && this.dead()) this.close();
  }

  private set(next: ConnectionState, initial: boolean): void {
    if (next === this.state) return;
    this.state = next;
    if (!initial) this.emit('state', next);
  }
}
