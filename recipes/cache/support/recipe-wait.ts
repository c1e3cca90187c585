/**
 * The waiting half of part B's recipes: deadlines, AbortSignal, "check,
 * then sleep until a watch fires" loops, and riding out connection loss.
 *
 * Every recipe wait is a loop: read the state with a watch, return if done,
 * otherwise sleep until the watch (or a state change) wakes it. Wakeup's
 * generation counter closes the race where the watch fires between the read
 * and the sleep: the sleep returns at once when anything happened since the
 * generation taken before the read.
 */
import { SessionExpiredError, ZooKeeper, isRetriable } from '../../../src';
import { RecipeArgumentError, SessionLostError } from '../../util/errors';
import { abortReason, assertUsable } from '../../util/session-retry';
import type { Watcher } from '../../../src';
import { ConnectionState, ConnectionStateTracker } from '../../state/connection-state';

/** Options of every blocking recipe call. */
export interface WaitOptions {
  /** Give up after this many ms (the call then resolves with its "not done" value: false or null). */
  timeout?: number;
  /** Abort the wait: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A point in time to give up at (none: wait forever). */
export class Deadline {
  private readonly at: number | undefined;
  constructor(timeoutMs?: number) {
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0)) {
      throw new RecipeArgumentError(`timeout must be a number >= 0 (got ${String(timeoutMs)})`);
    }
    this.at = timeoutMs === undefined || timeoutMs === Infinity ? undefined : Date.now() + timeoutMs;
  }
  /** Milliseconds left (undefined: no deadline). */
  remaining(): number | undefined {
    return this.at === undefined ? undefined : Math.max(0, this.at - Date.now());
  }
  expired(): boolean {
    return this.at !== undefined && Date.now() >= this.at;
  }
}

/** Throws the signal's reason when it is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Throws RecipeClosedError when the handle is already closed or expired
 * (a call on a dead handle is bad use; a session that ends DURING a call
 * is SessionLostError instead).
 */
export function assertOpen(zk: ZooKeeper, what: string): void {
  assertUsable(zk, what);
}

function lostError(): SessionLostError {
  return new SessionLostError('the session was lost (expired or closed) while waiting');
}

function isDead(zk: ZooKeeper): boolean {
  const t = ConnectionStateTracker.for(zk);
  return t.isLost();
}

/**
 * A wake-up source: pass `watcher` to ZooKeeper calls; any watch event or
 * connection-state change wakes every sleeper. One stable function per
 * recipe object, so repeated waits do not pile up watcher closures.
 */
export class Wakeup {
  private gen = 0;
  private readonly sleepers = new Set<() => void>();
  /** The watcher to register. */
  readonly watcher: Watcher = () => this.wake();

  /** Take this before the read whose result decides whether to sleep. */
  get generation(): number {
    return this.gen;
  }

  /** Wakes every sleeper (and any sleep that starts with an older generation). */
  wake(): void {
    this.gen++;
    const all = [...this.sleepers];
    this.sleepers.clear();
    for (const s of all) s();
  }

  /**
   * Sleeps until woken after `since`, the deadline ('timeout'), the
   * signal's abort (rejects with its reason) or the loss of the session
   * (rejects with SessionLostError).
   */
  sleep(zk: ZooKeeper, since: number, deadline: Deadline, signal?: AbortSignal): Promise<'woken' | 'timeout'> {
    throwIfAborted(signal);
    if (this.gen !== since) return Promise.resolve('woken');
    if (isDead(zk)) return Promise.reject(lostError());
    if (deadline.expired()) return Promise.resolve('timeout');
    const tracker = ConnectionStateTracker.for(zk);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: 'woken' | 'timeout' | { error: unknown }): void => {
        this.sleepers.delete(onWake);
        tracker.off('state', onState);
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        if (typeof outcome === 'object') reject(outcome.error);
        else resolve(outcome);
      };
      const onWake = (): void => finish('woken');
      const onState = (s: ConnectionState): void => {
        if (s === ConnectionState.LOST && isDead(zk)) finish({ error: lostError() });
        else if (s === ConnectionState.RECONNECTED || s === ConnectionState.CONNECTED) finish('woken');
      };
      const onAbort = (): void => finish({ error: abortReason(signal!) });
      this.sleepers.add(onWake);
      tracker.on('state', onState);
      signal?.addEventListener('abort', onAbort, { once: true });
      const left = deadline.remaining();
      if (left !== undefined) timer = setTimeout(() => finish('timeout'), left);
    });
  }
}

/**
 * Waits until the handle is connected again after a retriable error;
 * resolves false at the deadline, rejects on abort and when the session is
 * gone (SessionLostError).
 */
export async function untilConnected(zk: ZooKeeper, deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
  const w = new Wakeup();
  for (;;) {
    throwIfAborted(signal);
    const t = ConnectionStateTracker.for(zk);
    if (t.isConnected() || t.current === ConnectionState.READ_ONLY) return true;
    if (t.isLost()) throw lostError();
    const gen = w.generation;
    const onState = (): void => w.wake();
    t.on('state', onState);
    try {
      if ((await w.sleep(zk, gen, deadline, signal)) === 'timeout') return false;
    } finally {
      t.off('state', onState);
    }
  }
}

/**
 * Runs an idempotent call, waiting out retriable errors (connection loss)
 * until the handle reconnects; other errors are thrown. Resolves
 * `undefined` when the deadline passes first.
 */
export async function retryIdempotent<T>(zk: ZooKeeper, fn: () => Promise<T>, deadline = new Deadline(), signal?: AbortSignal): Promise<T | undefined> {
  for (;;) {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SessionExpiredError) throw new SessionLostError(`the session ended: ${err.message}`, { cause: err });
      if (!isRetriable(err)) throw err;
      if (!(await untilConnected(zk, deadline, signal))) return undefined;
    }
  }
}

/** retryIdempotent without a deadline: resolves with the call's value. */
export async function retryForever<T>(zk: ZooKeeper, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return (await retryIdempotent(zk, fn, new Deadline(), signal)) as T;
}
