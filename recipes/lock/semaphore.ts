import { EventEmitter } from 'events';
import { CreateMode, Data, EventType, ZooKeeper } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { AcquireTimeoutError, NotHeldError, RecipeArgumentError, SessionLostError } from '../util/errors';
import { joinPath, nodeName, validatePath } from '../util/paths';
import { createProtectedSequential, curatorProtectedPrefix, findProtected } from '../util/protected-create';
import { abortReason, assertUsable, checkBounds, guaranteedDelete, isDeadHandle, OperationBounds, toLost, untilDone } from '../util/session-retry';
import { asyncDispose } from './dispose';
import { Mutex } from './mutex';
import { AcquireOptions, toBounds } from './sequential-lock';

/** Curator's name part of a lease node. */
export const LEASE_NAME = 'lease-';

/** One lease of a Semaphore. */
export class Lease {
  private closed = false;
  constructor(
    private readonly owner: Semaphore,
    /** The lease node's path. */
    readonly path: string,
  ) {}

  /** True while the lease node exists under a live session and close() was not called. */
  isValid(): boolean {
    return !this.closed && this.owner.holds(this);
  }

  /** Gives the lease back (deletes the node, retried through connection loss). Throws NotHeldError on a second close. */
  async close(): Promise<void> {
    if (this.closed) throw new NotHeldError(`lease ${this.path} was already closed`);
    this.closed = true;
    await this.owner.returnLease(this);
  }

  /** `await using` support: closes the lease unless already closed. */
  async [asyncDispose](): Promise<void> {
    if (!this.closed) await this.close();
  }
}

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Data stored in each lease node. */
  data?: Data;
}

/**
 * A counting semaphore with leases, Curator 5's InterProcessSemaphoreV2
 * layout: take the mutex `<path>/locks` (`_c_<uuid>-lock-<seq>`), create
 * `<path>/leases/_c_<uuid>-lease-<seq>`, hold while the number of leases
 * is at most `maxLeases`, then release the `locks` mutex. A Curator
 * process and this one share the count.
 *
 * ```ts
 * const sem = new Semaphore(zk, '/semaphores/db-connections', 5);
 * {
 *   await using lease = await sem.acquire({ timeout: 5_000 });
 *   // ... one of at most 5 holders ...
 * }
 * const [a, b] = await sem.acquireMany(2);        // two leases at once
 * await a.close(); await b.close();
 * ```
 *
 * SUSPENDED: held leases are in doubt ('suspended'). LOST: the session's
 * lease nodes are gone; every Lease of it reports isValid() false ('lost')
 * and closing one is a no-op.
 */
export class Semaphore extends EventEmitter {
  /** The semaphore's node (its `locks` and `leases` children are Curator's). */
  readonly path: string;
  /** How many leases may be held at once, across every process. */
  readonly maxLeases: number;
  private readonly lock: Mutex;
  private readonly leasesPath: string;
  private readonly held = new Set<Lease>();
  private readonly tracker: ConnectionStateTracker;
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  /** A semaphore of `maxLeases` (an integer >= 1) leases on `path`. */
  constructor(
    /** The handle the semaphore works through. */
    readonly zk: ZooKeeper,
    path: string,
    maxLeases: number,
    private readonly options: SemaphoreOptions = {},
  ) {
    super();
    this.path = validatePath(path, 'Semaphore path');
    if (!Number.isInteger(maxLeases) || maxLeases < 1) {
      throw new RecipeArgumentError(`Semaphore maxLeases must be an integer >= 1 (got ${maxLeases})`);
    }
    this.maxLeases = maxLeases;
    this.lock = new Mutex(zk, joinPath(this.path, 'locks'));
    this.leasesPath = joinPath(this.path, 'leases');
    this.tracker = ConnectionStateTracker.for(zk);
  }

  /** Waits for one lease. Throws AcquireTimeoutError, the abort reason, SessionLostError or RecipeClosedError. */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    const [lease] = await this.acquireMany(1, options);
    return lease;
  }

  /** Waits for `qty` leases (all or none: on failure the ones taken are returned). */
  async acquireMany(qty: number, options?: AcquireOptions): Promise<Lease[]> {
    if (!Number.isInteger(qty) || qty < 1) throw new RecipeArgumentError(`lease count must be an integer >= 1 (got ${qty})`);
    if (qty > this.maxLeases) throw new RecipeArgumentError(`cannot take ${qty} leases of a semaphore of ${this.maxLeases}`);
    assertUsable(this.zk, 'Semaphore.acquire');
    const bounds = toBounds(options);
    const got: Lease[] = [];
    try {
      for (let i = 0; i < qty; i++) got.push(await this.acquireOne(bounds));
      return got;
    } catch (err) {
      for (const lease of got) await lease.close().catch(() => undefined);
      throw err;
    }
  }

  /** acquire() that resolves null instead of throwing on timeout. */
  async tryAcquire(options?: AcquireOptions): Promise<Lease | null> {
    try {
      return await this.acquire(options);
    } catch (err) {
      if (err instanceof AcquireTimeoutError) return null;
      throw err;
    }
  }

  /** The lease nodes' names present now. */
  async participantNodes(): Promise<string[]> {
    try {
      return await this.zk.getChildren(this.leasesPath);
    } catch (err) {
      if ((err as { code?: number }).code === -101) return [];
      throw err;
    }
  }

  /** @internal */
  holds(lease: Lease): boolean {
    return this.held.has(lease);
  }

  /** @internal */
  async returnLease(lease: Lease): Promise<void> {
    if (!this.held.delete(lease)) return; // lost with the session: nothing to delete
    if (this.held.size === 0) this.tracker.off('state', this.onState);
    await guaranteedDelete(this.zk, lease.path);
  }

  private async acquireOne(bounds: OperationBounds): Promise<Lease> {
    const what = 'Semaphore.acquire';
    const hold = await this.lock.acquire({ signal: bounds.signal, timeout: bounds.deadline === undefined ? undefined : Math.max(0, bounds.deadline - Date.now()) });
    const prefix = curatorProtectedPrefix() + LEASE_NAME;
    let ourPath: string | null = null;
    try {
      ourPath = await createProtectedSequential(this.zk, this.leasesPath, prefix, this.options.data, CreateMode.EPHEMERAL_SEQUENTIAL, bounds);
      const ourName = nodeName(ourPath);
      for (;;) {
        checkBounds(bounds, what);
        const changed = this.childrenChanged(bounds, what);
        const children = await untilDone(this.zk, what, () => this.zk.getChildren(this.leasesPath, changed.watcher), bounds);
        if (!children.includes(ourName)) throw new SessionLostError(`${what}: our lease node ${ourName} is gone`);
        if (children.length <= this.maxLeases) {
          changed.cancel();
          break;
        }
        await changed.promise;
      }
      const lease = new Lease(this, ourPath);
      if (this.held.size === 0) this.tracker.on('state', this.onState);
      this.held.add(lease);
      return lease;
    } catch (err) {
      if (!isDeadHandle(this.zk)) {
        const path = ourPath ?? (await findProtected(this.zk, this.leasesPath, prefix, true).catch(() => null));
        if (path !== null) await guaranteedDelete(this.zk, path);
      }
      throw toLost(err, what);
    } finally {
      await hold.release().catch(() => undefined);
    }
  }

  /** A one-shot children watcher and a promise for its firing (or the bounds/state ending the wait). */
  private childrenChanged(bounds: OperationBounds, what: string): { watcher: (ev: { type: number }) => void; promise: Promise<void>; cancel: () => void } {
    let resolveFn!: () => void;
    let rejectFn!: (e: unknown) => void;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      this.tracker.off('state', onState);
      bounds.signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    const promise = new Promise<void>((resolve, reject) => {
      resolveFn = () => {
        cleanup();
        resolve();
      };
      rejectFn = (e) => {
        cleanup();
        reject(e);
      };
    });
    promise.catch(() => undefined);
    const onState = (s: ConnectionState): void => {
      if (s === ConnectionState.LOST) rejectFn(new SessionLostError(`${what}: the session was lost while waiting`));
      else if (s === ConnectionState.RECONNECTED) resolveFn();
    };
    const onAbort = (): void => rejectFn(abortReason(bounds.signal!));
    this.tracker.on('state', onState);
    bounds.signal?.addEventListener('abort', onAbort, { once: true });
    if (bounds.deadline !== undefined) timer = setTimeout(() => rejectFn(new AcquireTimeoutError(`${what}: timed out`)), Math.max(0, bounds.deadline - Date.now()));
    return {
      watcher: (ev) => {
        if (ev.type !== EventType.None) resolveFn();
      },
      promise,
      cancel: cleanup,
    };
  }

  private stateChanged(s: ConnectionState): void {
    if (this.held.size === 0) return;
    if (s === ConnectionState.SUSPENDED) this.emit('suspended');
    else if (s === ConnectionState.RECONNECTED) this.emit('reconnected');
    else if (s === ConnectionState.LOST) {
      this.held.clear();
      this.tracker.off('state', this.onState);
      this.emit('lost');
    }
  }
}
