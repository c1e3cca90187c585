import { EventEmitter } from 'events';
import { BadVersionError, CreateMode, EventType, NodeExistsError, NoNodeError, SessionExpiredError, ZooKeeper, isRetriable } from '../../src';
import type { WatchedEvent } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { RecipeArgumentError, RecipeClosedError, SessionLostError } from '../util/errors';
import { IndeterminateResultError, isSessionEnd } from '../cache/support/recipe-errors';
import { checkRecipePath, createWithParents } from '../cache/support/recipe-paths';
import { Deadline, retryForever, untilConnected, assertOpen } from '../cache/support/recipe-wait';

/** A value with the node version it was read at (the token for trySetCount). */
export interface VersionedValue<T> {
  /** The value. */
  value: T;
  /** The node's version when the value was read (what trySetCount compares with). */
  version: number;
}

/** Curator's SharedCount encoding: a 4-byte big-endian int. */
export function encodeCount(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

/** Decodes 4 big-endian bytes (0 for an empty node, as Curator's seedless read). */
export function decodeCount(data: Buffer | null): number {
  if (data === null || data.length === 0) return 0;
  if (data.length < 4) throw new RecipeArgumentError(`shared count data has ${data.length} bytes, want 4`);
  return data.readInt32BE(0);
}

function checkInt32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RecipeArgumentError(`${what} must be a 32-bit integer (got ${String(v)})`);
  return v;
}

/**
 * SharedCount: a 32-bit integer every process sees, with versioned
 * compare-and-set and change events (Curator's SharedCount: the node at
 * `path` holds the count as 4 big-endian bytes; created with the seed value
 * when missing).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { SharedCount } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const workers = new SharedCount(zk, '/app/worker-count', 0);
 * workers.on('change', (count: number) => console.log('now', count));
 * await workers.start();
 * let seen = workers.getVersionedValue();
 * while (!(await workers.trySetCount(seen, seen.value + 1))) seen = workers.getVersionedValue();
 * await workers.close();
 * ```
 *
 * SUSPENDED: the local value may be stale ('state' is emitted); writes wait
 * for the reconnect. RECONNECTED: the value is read again and 'change' is
 * emitted if it moved. LOST: the handle is dead; the object keeps its last
 * value, emits 'state' LOST, and every call rejects with SessionLostError,
 * except a trySetCount/setCount whose write was in flight (sent, no reply,
 * not proven unapplied): IndeterminateResultError, as it may have been applied.
 *
 * Events: 'change' (value, version) after the value moved; 'state' (ConnectionState).
 */
export class SharedCount extends EventEmitter {
  private current: VersionedValue<number> | null = null;
  private zxid = -1n;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private readonly tracker: ConnectionStateTracker;
  private readonly onState = (s: ConnectionState): void => {
    this.emit('state', s);
    if (s === ConnectionState.RECONNECTED) void this.refresh().catch(() => undefined);
  };
  private readonly watcher = (e: WatchedEvent): void => {
    if (this.state !== 'started' || e.type === EventType.None) return;
    void this.refresh().catch(() => undefined);
  };

  /** A shared count at `path`, created with `seed` when missing. */
  constructor(
    private readonly zk: ZooKeeper,
    /** The node holding the count. */
    readonly path: string,
    private readonly seed = 0,
  ) {
    super();
    checkRecipePath(path, 'shared count path');
    checkInt32(seed, 'seed');
    this.tracker = ConnectionStateTracker.for(zk);
  }

  /** Creates the node if missing and reads the value; 'change' events follow. */
  async start(): Promise<void> {
    assertOpen(this.zk, `SharedCount ${this.path}`);
    if (this.state !== 'latent') throw new RecipeClosedError(`SharedCount ${this.path} was already started`);
    this.state = 'started';
    this.tracker.on('state', this.onState);
    await this.guard(async () => {
      try {
        await createWithParents(this.zk, this.path, encodeCount(this.seed), CreateMode.PERSISTENT);
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
      }
    });
    await this.refresh();
  }

  /** The last value seen. */
  getCount(): number {
    return this.getVersionedValue().value;
  }

  /** The last value seen with its version, for trySetCount. */
  getVersionedValue(): VersionedValue<number> {
    this.assertStarted();
    return { ...this.current! };
  }

  /** Sets the count whatever it was. */
  async setCount(newCount: number): Promise<void> {
    assertOpen(this.zk, `SharedCount ${this.path}`);
    this.assertStarted();
    checkInt32(newCount, 'count');
    let stat;
    try {
      stat = await this.guard(() => this.zk.setData(this.path, encodeCount(newCount), -1));
    } catch (err) {
      if (isSessionEnd(err)) throw this.inFlight(err);
      throw err;
    }
    this.update(newCount, stat.version, stat.mzxid);
  }

  /**
   * Sets the count only if the node is still at `previous.version`; false
   * (and the local value refreshed) when somebody changed it first.
   */
  async trySetCount(previous: VersionedValue<number>, newCount: number): Promise<boolean> {
    assertOpen(this.zk, `SharedCount ${this.path}`);
    this.assertStarted();
    checkInt32(newCount, 'count');
    if (!previous || !Number.isInteger(previous.version)) throw new RecipeArgumentError('trySetCount needs the VersionedValue from getVersionedValue()');
    for (;;) {
      try {
        const stat = await this.zk.setData(this.path, encodeCount(newCount), previous.version);
        this.update(newCount, stat.version, stat.mzxid);
        return true;
      } catch (err) {
        if (err instanceof BadVersionError || err instanceof NoNodeError) {
          await this.refresh();
          return false;
        }
        // The session ended with the write in flight: the server may have
        // applied it before the reply was lost, so this is not a definite "no".
        if (err instanceof SessionExpiredError) throw this.inFlight(err);
        if (!isRetriable(err)) throw err;
      }
      // The reply was lost: unchanged version = not applied (send again); moved = ours or another's.
      // Losing the session before that check leaves the write unknowable too.
      let got;
      try {
        await untilConnected(this.zk, new Deadline());
        got = await this.guard(() => this.zk.getData(this.path));
      } catch (err) {
        if (isSessionEnd(err)) throw this.inFlight(err);
        throw err;
      }
      const { data, stat } = got;
      if (stat.version === previous.version) continue;
      const value = decodeCount(data);
      this.update(value, stat.version, stat.mzxid);
      // One write since `previous` with another value: not ours. Anything
      // else may include ours (a false here would invite a second add).
      if (stat.version === previous.version + 1 && value !== newCount) return false;
      throw new IndeterminateResultError(`SharedCount ${this.path}: a write's reply was lost and the count moved on; it may or may not have been applied`);
    }
  }

  /** Stops watching; the object cannot be used again. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.tracker.off('state', this.onState);
    this.removeAllListeners('change');
  }

  private async refresh(): Promise<void> {
    const got = await this.guard(async () => {
      try {
        return await this.zk.getData(this.path, this.watcher);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        await this.zk.exists(this.path, this.watcher); // tell us when it comes back
        return null;
      }
    });
    if (got !== null) this.update(decodeCount(got.data), got.stat.version, got.stat.mzxid);
  }

  private update(value: number, version: number, mzxid: bigint): void {
    // Replies can overtake each other's effects (a watch-triggered read and a
    // write): keep the newest by the zxid of the last change, not the version,
    // which restarts at 0 if the node is deleted and made again.
    if (mzxid < this.zxid) return;
    this.zxid = mzxid;
    const changed = this.current === null || this.current.value !== value || this.current.version !== version;
    const first = this.current === null;
    this.current = { value, version };
    if (changed && !first && this.state === 'started') this.emit('change', value, version);
  }

  private assertStarted(): void {
    if (this.state !== 'started' || this.current === null) throw new RecipeClosedError(`SharedCount ${this.path} is not started (or closed)`);
  }

  private inFlight(cause: unknown): IndeterminateResultError {
    return new IndeterminateResultError(`SharedCount ${this.path}: the session ended with a write in flight; it may or may not have been applied`, { cause });
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await retryForever(this.zk, fn);
    } catch (err) {
      if (err instanceof SessionExpiredError) throw new SessionLostError(`SharedCount ${this.path}: the session ended`, { cause: err });
      throw err;
    }
  }
}
