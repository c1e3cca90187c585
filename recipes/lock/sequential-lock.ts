/**
 * The exclusive-lock engine behind Mutex and each half of ReadWriteLock:
 * re-entrant for the same object, with holds that are `await using`-able
 * and a view of the connection state while held.
 */
import { EventEmitter } from 'events';
import { Mutex as LocalMutex } from 'async-mutex';
import { Data, ZooKeeper } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { AcquireTimeoutError, NotHeldError, RecipeArgumentError } from '../util/errors';
import { validatePath } from '../util/paths';
import { guaranteedDelete, OperationBounds } from '../util/session-retry';
import { asyncDispose } from './dispose';
import { acquireNode, LockDriver } from './lock-internals';

/** Options of one acquire. */
export interface AcquireOptions {
  /** Give up after this many ms (AcquireTimeoutError; tryAcquire returns null instead). */
  timeout?: number;
  /** Give up when aborted (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** One successful acquire: release it once, or let `await using` do it. */
export interface LockHold {
  /** Releases this hold (the lock is freed when the last hold of a re-entrant lock is released). */
  release(): Promise<void>;
  /** `await using` support: release() (once; later calls do nothing). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Turns AcquireOptions into absolute bounds (throws RecipeArgumentError on a bad timeout). */
export function toBounds(options: AcquireOptions | undefined): OperationBounds {
  const o = options ?? {};
  if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout >= 0))) {
    throw new RecipeArgumentError(`timeout must be a number >= 0 (got ${o.timeout})`);
  }
  return { deadline: o.timeout === undefined ? undefined : Date.now() + o.timeout, signal: o.signal };
}

/**
 * A lock on `path` decided by a driver. Events while held: 'suspended'
 * (the hold is in doubt), 'reconnected' (same session: still held), 'lost'
 * (session gone: no longer held).
 */
export class SequentialLock extends EventEmitter {
  /** The lock's node: contenders' nodes are its children. */
  readonly path: string;
  private node: string | null = null;
  private count = 0;
  private readonly local = new LocalMutex();
  private readonly tracker: ConnectionStateTracker;
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  /** @internal */
  constructor(
    /** The handle the lock works through. */
    readonly zk: ZooKeeper,
    path: string,
    private readonly driver: LockDriver,
    private readonly data: Data | undefined,
    private readonly what: string,
  ) {
    super();
    this.path = validatePath(path, `${what} path`);
    this.tracker = ConnectionStateTracker.for(zk);
  }

  /** Waits for the lock; re-entrant (a holder acquiring again just counts). Throws AcquireTimeoutError, the abort reason, SessionLostError or RecipeClosedError. */
  async acquire(options?: AcquireOptions): Promise<LockHold> {
    const bounds = toBounds(options);
    if (this.count > 0) return this.enter();
    // Concurrent acquires on one object wait for each other: the second re-enters the first's hold.
    return this.local.runExclusive(async () => {
      if (this.count > 0) return this.enter();
      this.lostHolds = 0;
      this.node = await acquireNode(this.zk, this.path, this.driver, this.data, bounds, this.what);
      this.tracker.on('state', this.onState);
      return this.enter();
    });
  }

  /** acquire() that resolves null instead of throwing on timeout. */
  async tryAcquire(options?: AcquireOptions): Promise<LockHold | null> {
    try {
      return await this.acquire(options);
    } catch (err) {
      if (err instanceof AcquireTimeoutError) return null;
      throw err;
    }
  }

  /** Releases one hold; the node is deleted (retried through connection loss) with the last. Throws NotHeldError when nothing is held. */
  async release(): Promise<void> {
    if (this.count === 0) {
      if (this.lostHolds > 0) {
        this.lostHolds--;
        return; // the session took the lock away; nothing left to release
      }
      throw new NotHeldError(`${this.what} ${this.path}: release() without a hold`);
    }
    this.count--;
    if (this.count > 0) return;
    const node = this.node;
    this.node = null;
    this.tracker.off('state', this.onState);
    if (node !== null) await guaranteedDelete(this.zk, node);
  }

  /** True while held under a live session (false from LOST on). */
  isAcquired(): boolean {
    return this.count > 0;
  }

  /** Held and the connection is up: SUSPENDED puts the hold in doubt. */
  isHeldAndConnected(): boolean {
    return this.count > 0 && this.tracker.isConnected();
  }

  /** Our node's path while held. */
  get nodePath(): string | null {
    return this.node;
  }

  /** The nodes contending for this lock, in lock order (full paths). */
  async participantNodes(): Promise<string[]> {
    try {
      const children = await this.zk.getChildren(this.path);
      return this.driver.sort(children).map((c) => (this.path === '/' ? `/${c}` : `${this.path}/${c}`));
    } catch (err) {
      if ((err as { code?: number }).code === -101) return [];
      throw err;
    }
  }

  private lostHolds = 0;

  private enter(): LockHold {
    this.count++;
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await this.release();
    };
    return { release, [asyncDispose]: release };
  }

  private stateChanged(s: ConnectionState): void {
    if (this.count === 0) return;
    if (s === ConnectionState.SUSPENDED) this.emit('suspended');
    else if (s === ConnectionState.RECONNECTED) this.emit('reconnected');
    else if (s === ConnectionState.LOST) {
      // Nothing claims a lock after its session ended; release() after this is a quiet no-op (once per lost hold).
      this.lostHolds = this.count;
      this.count = 0;
      this.node = null;
      this.tracker.off('state', this.onState);
      this.emit('lost');
    }
  }
}
