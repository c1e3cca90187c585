/**
 * The ephemeral-sequential dance shared by every lock (and the leader
 * election): create a protected node, list the contenders, hold when the
 * driver says so, else watch ONLY the node the driver names (no herd),
 * and delete the node (guaranteed) on give-up or release.
 */
import { CreateMode, Data, EventType, KeeperError, ZooKeeper } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { AcquireTimeoutError, RecipeError, SessionLostError } from '../util/errors';
import { joinPath, nodeName } from '../util/paths';
import { createProtectedSequential, findProtected } from '../util/protected-create';
import { abortReason, assertUsable, checkBounds, guaranteedDelete, isDeadHandle, OperationBounds, toLost, untilDone } from '../util/session-retry';
import { sortBySequence, sortKazooContenders } from '../util/sequence-sort';
import { curatorProtectedPrefix, kazooProtectedPrefix } from '../util/protected-create';

/** What a driver decides for one look at the contenders. */
export type LockDecision = { holds: true } | { holds: false; watch: string };

/** How one kind of lock names, orders and judges its nodes. */
export interface LockDriver {
  /** A fresh node-name prefix (GUID included) for one acquire attempt. */
  makePrefix(): string;
  /** The contenders among `children`, in lock order. */
  sort(children: readonly string[]): string[];
  /** Given the ordered contenders and our node's name: hold, or the node to watch. */
  decide(sorted: readonly string[], ourName: string): LockDecision;
}

/** Node layouts: Apache Curator 5's (default) or kazoo's. */
export type LockLayout = 'curator' | 'kazoo';

/** The standard exclusive driver: hold when among the first `maxLeases`, else watch the one `maxLeases` ahead. */
export function standardDriver(layout: LockLayout, lockName: string, maxLeases = 1): LockDriver {
  if (layout === 'kazoo') {
    return {
      makePrefix: () => kazooProtectedPrefix() + lockName,
      sort: (children) => sortKazooContenders(children, [lockName]),
      decide: (sorted, ourName) => exclusiveDecision(sorted, ourName, maxLeases),
    };
  }
  return {
    makePrefix: () => curatorProtectedPrefix() + lockName,
    sort: (children) => sortBySequence(children, [lockName]),
    decide: (sorted, ourName) => exclusiveDecision(sorted, ourName, maxLeases),
  };
}

/** Hold when among the first `maxLeases`; else watch the node `maxLeases` ahead of ours. */
export function exclusiveDecision(sorted: readonly string[], ourName: string, maxLeases: number): LockDecision {
  const ourIndex = sorted.indexOf(ourName);
  if (ourIndex < 0) throw new LockNodeGoneError(`lock node ${ourName} is no longer among the contenders`);
  if (ourIndex < maxLeases) return { holds: true };
  return { holds: false, watch: sorted[ourIndex - maxLeases] };
}

/** Our lock node disappeared while we waited (deleted by someone else, or the session changed). */
export class LockNodeGoneError extends RecipeError {}

/**
 * Acquires a node under `base` with `driver`: returns the node's path once
 * it holds. On timeout, abort or error the node is deleted (guaranteed).
 */
export async function acquireNode(zk: ZooKeeper, base: string, driver: LockDriver, data: Data | undefined, bounds: OperationBounds, what: string): Promise<string> {
  assertUsable(zk, what);
  checkBounds(bounds, what);
  const prefix = driver.makePrefix();
  let ourPath: string | null = null;
  try {
    ourPath = await createProtectedSequential(zk, base, prefix, data, CreateMode.EPHEMERAL_SEQUENTIAL, bounds);
    const ourName = nodeName(ourPath);
    for (;;) {
      checkBounds(bounds, what);
      const children = await untilDone(zk, what, () => zk.getChildren(base), bounds);
      const decision = driver.decide(driver.sort(children), ourName);
      if (decision.holds) return ourPath;
      await waitForChange(zk, joinPath(base, decision.watch), bounds, what);
    }
  } catch (err) {
    // Give up our place in line; a create whose reply was lost is found by its GUID.
    if (!isDeadHandle(zk)) {
      const path = ourPath ?? (await findProtected(zk, base, prefix, true).catch(() => null));
      if (path !== null) await guaranteedDelete(zk, path);
    }
    throw toLost(err, what);
  }
}

/**
 * Waits until `path` changes (deleted, usually) or the connection state
 * says to look again; rejects when the session is lost or the bounds are spent.
 * The watch is set with getData, so nothing is left behind when the node is already gone.
 */
export function waitForChange(zk: ZooKeeper, path: string, bounds: OperationBounds, what: string): Promise<void> {
  const tracker = ConnectionStateTracker.for(zk);
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      tracker.off('state', onState);
      bounds.signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onState = (s: ConnectionState): void => {
      if (s === ConnectionState.LOST) finish(new SessionLostError(`${what}: the session was lost while waiting`));
      else if (s === ConnectionState.RECONNECTED) finish();
    };
    const onAbort = (): void => finish(abortReason(bounds.signal!));
    if (bounds.signal?.aborted) return onAbort();
    tracker.on('state', onState);
    bounds.signal?.addEventListener('abort', onAbort, { once: true });
    if (bounds.deadline !== undefined) {
      timer = setTimeout(() => finish(new AcquireTimeoutError(`${what}: timed out`)), Math.max(0, bounds.deadline - Date.now()));
    }
    const watcher = (ev: { type: number }): void => {
      // State-only events (type None) are handled through the tracker.
      if (ev.type !== EventType.None) finish();
    };
    zk.getData(path, watcher).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof KeeperError && (err.code === -101 || err.retriable)) finish(); // gone, or look again after reconnecting
        else finish(toLost(err, what));
      },
    );
  });
}
