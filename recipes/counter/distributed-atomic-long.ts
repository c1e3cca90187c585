import { BadVersionError, CreateMode, NodeExistsError, NoNodeError, SessionExpiredError, ZooKeeper, isRetriable } from '../../src';
import { Mutex } from '../lock';
import { RecipeArgumentError, SessionLostError } from '../util/errors';
import { IndeterminateResultError, isSessionEnd } from '../cache/support/recipe-errors';
import { checkRecipePath, createWithParents } from '../cache/support/recipe-paths';
import { Deadline, retryForever, untilConnected, assertOpen } from '../cache/support/recipe-wait';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Back-off between optimistic tries. */
export interface AtomicRetryOptions {
  /** Tries after the first (default 10). */
  retries?: number;
  /** First delay in ms (default 5). */
  minTimeout?: number;
  /** Largest delay in ms (default 500). */
  maxTimeout?: number;
  /** Growth of the delay (default 2; jittered). */
  factor?: number;
}

/** Curator's PromotedToLock: take a mutex when optimism failed, then try again. */
export interface PromotedToLockOptions {
  /** The mutex's path (Curator layout, shared with InterProcessMutex). */
  lockPath: string;
  /** How long to wait for the mutex in ms (default 10 000). */
  timeout?: number;
  /** Tries under the lock (default { retries: 3 }). */
  retry?: AtomicRetryOptions;
}

/** Options of a {@link DistributedAtomicLong}. */
export interface DistributedAtomicLongOptions {
  /** Back-off of the optimistic tries (default { retries: 10 }). */
  retry?: AtomicRetryOptions;
  /** Take a mutex and try again when the optimistic tries ran out (default: no lock; the change fails instead). */
  promotedToLock?: PromotedToLockOptions;
}

/** The outcome of a change: check `succeeded`. */
export interface AtomicValue {
  /** True when the change was applied; false when every try lost a race (nothing was changed). */
  succeeded: boolean;
  /** The value the change was computed from. */
  preValue: bigint;
  /** The value written (equals preValue when it did not succeed). */
  postValue: bigint;
  /** How many tries it took. */
  stats: {
    /** Compare-and-set tries without the lock. */
    optimisticTries: number;
    /** Tries under the promoted lock. */
    promotedTries: number;
  };
}

/** Curator's encoding: 8 big-endian bytes. */
export function encodeLong(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v, 0);
  return b;
}

/** Decodes Curator's encoding (null or empty: 0). */
export function decodeLong(data: Buffer | null): bigint {
  if (data === null || data.length === 0) return 0n;
  if (data.length < 8) throw new RecipeArgumentError(`atomic long data has ${data.length} bytes, want 8`);
  return data.readBigInt64BE(0);
}

function toLong(v: bigint | number, what: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new RecipeArgumentError(`${what} must be a bigint or a safe integer (got ${String(v)})`);
  if (b < INT64_MIN || b > INT64_MAX) throw new RecipeArgumentError(`${what} is outside the 64-bit range`);
  return b;
}

function wrap64(v: bigint): bigint {
  return BigInt.asIntN(64, v); // Java's long arithmetic wraps
}

function checkRetry(r: AtomicRetryOptions | undefined, what: string): Required<AtomicRetryOptions> {
  const o = { retries: 10, minTimeout: 5, maxTimeout: 500, factor: 2, ...r };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RecipeArgumentError(`${what}.${k} must be a number >= 0 (got ${String(v)})`);
  }
  return o;
}

type TryResult = { done: true; pre: bigint; post: bigint } | { done: false; pre: bigint } | { done: 'rejected'; pre: bigint };

/**
 * DistributedAtomicLong: a 64-bit counter changed by optimistic
 * compare-and-set on the node version, retried with back-off, and
 * optionally "promoted to a lock" (a Mutex at `lockPath`) when the
 * optimistic tries run out, as Curator's DistributedAtomicLong with
 * PromotedToLock. Value encoding is Curator's: 8 big-endian bytes at
 * `path` (a missing or empty node reads as 0). Values are bigints so no
 * 64-bit value is rounded.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { DistributedAtomicLong } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const hits = new DistributedAtomicLong(zk, '/app/hits', { retry: { retries: 20 } });
 * const r = await hits.increment();
 * if (r.succeeded) console.log('from', r.preValue, 'to', r.postValue);
 * ```
 *
 * Never two applications of one call: when a write's reply is lost, the
 * version is read again after the reconnect; unchanged means not applied
 * (the try goes on), moved means it cannot be known, and the call rejects
 * with IndeterminateResultError instead of risking a double add.
 * SUSPENDED: calls wait for the reconnect. LOST: a call rejects with
 * SessionLostError only when this call's change was certainly not applied
 * (lost while reading, or every write it sent was refused), and with
 * IndeterminateResultError whenever a write of it was in flight (sent, no
 * reply, not proven unapplied), up to and including the check after the
 * reconnect. Both are final for the handle: go on with a new session.
 */
export class DistributedAtomicLong {
  private readonly retry: Required<AtomicRetryOptions>;
  private readonly promoted?: { mutex: Mutex; timeout: number; retry: Required<AtomicRetryOptions> };

  /** A counter at `path` (RecipeArgumentError for a bad path or options). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The node holding the value. */
    readonly path: string,
    options: DistributedAtomicLongOptions = {},
  ) {
    checkRecipePath(path, 'atomic long path');
    this.retry = checkRetry(options.retry, 'retry');
    const p = options.promotedToLock;
    if (p !== undefined) {
      checkRecipePath(p.lockPath, 'promotedToLock.lockPath');
      const timeout = p.timeout ?? 10_000;
      if (typeof timeout !== 'number' || !(timeout >= 0)) throw new RecipeArgumentError(`promotedToLock.timeout must be >= 0 (got ${String(timeout)})`);
      this.promoted = { mutex: new Mutex(zk, p.lockPath), timeout, retry: checkRetry(p.retry ?? { retries: 3 }, 'promotedToLock.retry') };
    }
  }

  /** The current value (0 when the node does not exist). */
  async get(): Promise<bigint> {
    assertOpen(this.zk, `atomic long ${this.path}`);
    const got = await this.guard(() => this.zk.getData(this.path).catch(noNode));
    return got === null ? 0n : decodeLong(got.data);
  }

  /** Adds 1. */
  async increment(): Promise<AtomicValue> {
    return this.add(1n);
  }

  /** Subtracts 1. */
  async decrement(): Promise<AtomicValue> {
    return this.add(-1n);
  }

  /** Adds `delta` (wrapping at 64 bits, as Java's long). */
  async add(delta: bigint | number): Promise<AtomicValue> {
    const d = toLong(delta, 'delta');
    return this.change((pre) => wrap64(pre + d));
  }

  /** Subtracts `delta`. */
  async subtract(delta: bigint | number): Promise<AtomicValue> {
    const d = toLong(delta, 'delta');
    return this.change((pre) => wrap64(pre - d));
  }

  /** Sets `newValue` with the same optimistic retries (and lock) as add. */
  async trySet(newValue: bigint | number): Promise<AtomicValue> {
    const v = toLong(newValue, 'newValue');
    return this.change(() => v);
  }

  /** Sets `newValue` only if the current value is `expected` (one try; no retries). */
  async compareAndSet(expected: bigint | number, newValue: bigint | number): Promise<AtomicValue> {
    assertOpen(this.zk, `atomic long ${this.path}`);
    const e = toLong(expected, 'expected');
    const v = toLong(newValue, 'newValue');
    const r = await this.tryOnce((pre) => (pre === e ? v : null));
    const stats = { optimisticTries: 1, promotedTries: 0 };
    return r.done === true ? { succeeded: true, preValue: r.pre, postValue: r.post, stats } : { succeeded: false, preValue: r.pre, postValue: r.pre, stats };
  }

  /** Writes `newValue` whatever the current value is. */
  async forceSet(newValue: bigint | number): Promise<void> {
    assertOpen(this.zk, `atomic long ${this.path}`);
    const data = encodeLong(toLong(newValue, 'newValue'));
    await this.guard(async () => {
      try {
        await this.zk.setData(this.path, data, -1);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        try {
          await createWithParents(this.zk, this.path, data, CreateMode.PERSISTENT);
        } catch (e) {
          if (!(e instanceof NodeExistsError)) throw e;
          await this.zk.setData(this.path, data, -1);
        }
      }
    });
  }

  /** Creates the node with `value` if it does not exist; true when this call created it. */
  async initialize(value: bigint | number): Promise<boolean> {
    assertOpen(this.zk, `atomic long ${this.path}`);
    const data = encodeLong(toLong(value, 'value'));
    return this.guard(async () => {
      try {
        await createWithParents(this.zk, this.path, data, CreateMode.PERSISTENT);
        return true;
      } catch (err) {
        if (err instanceof NodeExistsError) return false;
        throw err;
      }
    });
  }

  private async change(make: (pre: bigint) => bigint): Promise<AtomicValue> {
    assertOpen(this.zk, `atomic long ${this.path}`);
    const stats = { optimisticTries: 0, promotedTries: 0 };
    let last: TryResult = { done: false, pre: 0n };
    for (let attempt = 0; attempt <= this.retry.retries; attempt++) {
      if (attempt > 0) await backOff(this.retry, attempt);
      stats.optimisticTries++;
      last = await this.tryOnce(make);
      if (last.done === true) return { succeeded: true, preValue: last.pre, postValue: last.post, stats };
    }
    const p = this.promoted;
    if (p !== undefined) {
      const hold = await p.mutex.tryAcquire({ timeout: p.timeout });
      if (hold !== null) {
        let applied: AtomicValue | null = null;
        try {
          for (let attempt = 0; attempt <= p.retry.retries && applied === null; attempt++) {
            if (attempt > 0) await backOff(p.retry, attempt);
            stats.promotedTries++;
            last = await this.tryOnce(make);
            if (last.done === true) applied = { succeeded: true, preValue: last.pre, postValue: last.post, stats };
          }
        } finally {
          // An applied change must be reported as applied: a release that fails
          // because the session ended (the ephemeral lock node goes with it)
          // must not turn it into an error the caller would retry.
          await hold.release().catch((err: unknown) => {
            if (applied === null || !isSessionEnd(err)) throw err;
          });
        }
        if (applied !== null) return applied;
      }
    }
    return { succeeded: false, preValue: last.pre, postValue: last.pre, stats };
  }

  /** Reads, computes, writes at the read version. make() returning null refuses the change. */
  private async tryOnce(make: (pre: bigint) => bigint | null): Promise<TryResult> {
    const got = await this.guard(() => this.zk.getData(this.path).catch(noNode));
    const pre = got === null ? 0n : decodeLong(got.data);
    const post = make(pre);
    if (post === null) return { done: 'rejected', pre };
    const data = encodeLong(post);
    for (;;) {
      try {
        if (got === null) await createWithParents(this.zk, this.path, data, CreateMode.PERSISTENT);
        else await this.zk.setData(this.path, data, got.stat.version);
        return { done: true, pre, post };
      } catch (err) {
        if (err instanceof BadVersionError || err instanceof NoNodeError || err instanceof NodeExistsError) return { done: false, pre };
        if (err instanceof SessionExpiredError) {
          throw new IndeterminateResultError(`${this.path}: the session ended with a write in flight`, { cause: err });
        }
        if (!isRetriable(err)) throw err;
      }
      // The reply was lost. Unchanged node: not applied, send again. Changed: unknowable.
      try {
        await untilConnected(this.zk, new Deadline());
      } catch (err) {
        throw new IndeterminateResultError(`${this.path}: the session ended with a write in flight`, { cause: err });
      }
      let now;
      try {
        now = await this.guard(() => this.zk.exists(this.path));
      } catch (err) {
        // Lost after the reconnect but before the check: still unknowable.
        if (isSessionEnd(err)) throw new IndeterminateResultError(`${this.path}: the session ended with a write in flight`, { cause: err });
        throw err;
      }
      const unchanged = got === null ? now === null : now !== null && now.version === got.stat.version && now.mzxid === got.stat.mzxid;
      if (!unchanged) {
        throw new IndeterminateResultError(`${this.path}: a write's reply was lost and the node changed since; it may or may not have been applied`);
      }
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await retryForever(this.zk, fn);
    } catch (err) {
      if (err instanceof SessionExpiredError) throw new SessionLostError(`${this.path}: the session ended`, { cause: err });
      throw err;
    }
  }
}

function noNode(err: unknown): null {
  if (err instanceof NoNodeError) return null;
  throw err;
}

function backOff(r: Required<AtomicRetryOptions>, attempt: number): Promise<void> {
  const base = Math.min(r.maxTimeout, r.minTimeout * Math.pow(r.factor, attempt - 1));
  const ms = base * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
