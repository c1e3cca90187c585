/**
 * Retry wrappers that know about the session: a retriable error
 * (ConnectionLoss and kin) waits for the handle to reconnect and tries
 * again; the end of the session (expiry, close) is final and surfaces as
 * SessionLostError. Every recipe call to ZooKeeper goes through these.
 */
import { KeeperError, KeeperState, SessionExpiredError, ZooKeeper } from '../../src';
import { ConnectionStateTracker } from '../state/connection-state';
import { AcquireTimeoutError, RecipeClosedError, SessionLostError } from './errors';

/** True when the handle can never serve again (expired, closed, auth failed). */
export function isDeadHandle(zk: ZooKeeper): boolean {
  const s = zk.state;
  return s === KeeperState.Expired || s === KeeperState.Closed || s === KeeperState.AuthFailed;
}

/** Throws RecipeClosedError when the handle is closed or its session is gone. */
export function assertUsable(zk: ZooKeeper, what: string): void {
  if (isDeadHandle(zk)) throw new RecipeClosedError(`${what}: the ZooKeeper handle is closed or its session expired`);
}

/** Bounds of one recipe operation: an absolute deadline (ms since epoch) and an abort signal. */
export interface OperationBounds {
  deadline?: number;
  signal?: AbortSignal;
}

/** Throws the abort reason or AcquireTimeoutError when the bounds are spent. */
export function checkBounds(bounds: OperationBounds, what: string): void {
  if (bounds.signal?.aborted) throw abortReason(bounds.signal);
  if (bounds.deadline !== undefined && Date.now() >= bounds.deadline) throw new AcquireTimeoutError(`${what}: timed out`);
}

/** The error to throw for an aborted signal. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

/** Maps the end of a session to SessionLostError; other errors pass through. */
export function toLost(err: unknown, what: string): unknown {
  if (err instanceof SessionLostError) return err;
  if (err instanceof SessionExpiredError || (err instanceof KeeperError && err.code === -112)) {
    return new SessionLostError(`${what}: the session expired`, { cause: err });
  }
  return err;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` until it succeeds: after a retriable error, waits for the
 * handle to be connected again and retries. Session end -> SessionLostError;
 * bounds spent -> abort reason / AcquireTimeoutError; other errors rethrown.
 */
export async function untilDone<T>(zk: ZooKeeper, what: string, fn: () => Promise<T>, bounds: OperationBounds = {}): Promise<T> {
  const tracker = ConnectionStateTracker.for(zk);
  for (let attempt = 0; ; attempt++) {
    checkBounds(bounds, what);
    if (isDeadHandle(zk)) throw new SessionLostError(`${what}: the ZooKeeper handle is closed or its session expired`);
    try {
      return await fn();
    } catch (err) {
      const lost = toLost(err, what);
      if (lost !== err) throw lost;
      if (!(err instanceof KeeperError) || !err.retriable) throw err;
      if (isDeadHandle(zk)) throw new SessionLostError(`${what}: the session ended`, { cause: err });
      const remaining = bounds.deadline === undefined ? undefined : Math.max(0, bounds.deadline - Date.now());
      try {
        await tracker.whenConnected(remaining, bounds.signal);
      } catch (waitErr) {
        checkBounds(bounds, what);
        throw isDeadHandle(zk) ? new SessionLostError(`${what}: the session ended`, { cause: err }) : waitErr;
      }
      // The state event may lag the failed reply: do not spin on a connection that is going down.
      await sleep(Math.min(20 * (attempt + 1), 500));
    }
  }
}

/**
 * Deletes `path`, retrying through connection loss until the node is gone
 * or the session ended (an ephemeral then went with it). Never throws for
 * NoNode or a lost session: that is what "guaranteed delete" means.
 */
export async function guaranteedDelete(zk: ZooKeeper, path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (isDeadHandle(zk)) return;
    try {
      await zk.delete(path);
      return;
    } catch (err) {
      if (err instanceof KeeperError) {
        if (err.code === -101) return; // NoNode: already gone
        if (err.code === -112) return; // session expired: the ephemeral went with it
        if (err.retriable) {
          try {
            await ConnectionStateTracker.for(zk).whenConnected();
          } catch {
            return; // handle died: its ephemerals are gone
          }
          await sleep(Math.min(20 * (attempt + 1), 500));
          continue;
        }
      }
      throw err;
    }
  }
}
