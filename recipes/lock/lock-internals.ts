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

/**
 * What a driver decides for one look at the contenders. `holdsOnceGone`:
 * the watched node is all that stands between us and the lock, so its
 * deletion alone makes us hold (see acquireNode).
 */
export type LockDecision = { holds: true } | { holds: false; watch: string; holdsOnceGone?: boolean };

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
  // Exactly maxLeases nodes ahead: one of them going leaves fewer than maxLeases ahead for good.
  return { holds: false, watch: sorted[ourIndex - maxLeases], holdsOnceGone: ourIndex === maxLeases };
}

/** Our lock node disappeared while we waited (deleted by someone else, or the session changed). */
export class LockNodeGoneError extends RecipeError {}

/**
 * Acquires a node under `base` with `driver`: returns the node's path once
 * it holds. On timeout, abort or error the node is deleted (guaranteed).
 *
 * When the driver says the watched node is all that stands in the way
 * (`holdsOnceGone`), its deletion is taken as the hand-off without listing
 * the children again: a sequence number is never handed out twice and new
 * contenders always sort after us, so the nodes ahead of us can only
 * shrink. That saves the getChildren round trip on every hand-off (a read
 * that a standalone Apache server holds behind whatever fsync is in
 * progress). Any other change (data, reconnect) is looked at with a fresh
 * listing, as Curator does.
 */
export async function acquireNode(zk: ZooKeeper, base: string, driver: LockDriver, data: Data | undefined, bounds: OperationBounds, what: string): Promise<string> {
  assertUsable(zk, what);
  checkBounds(bounds, what);
  const prefix = driver.makePrefix();
  let ourPath: string | null = null;
  try {
    const creating = createProtectedSequential(zk, base, prefix, data, CreateMode.EPHEMERAL_SEQUENTIAL, bounds);
    // The first listing goes out right behind the create: a session's requests are answered in
    // order, so when the create succeeds at once the listing already holds our node, and the
    // second round trip (which a standalone Apache server also holds behind the fsync in
    // progress) is spared. A listing without our node (a retried create, a missing parent)
    // is not used.
    const early = zk.getChildren(base).catch(() => null);
    ourPath = await creating;
    const ourName = nodeName(ourPath);
    let first: string[] | null = await early;
    for (;;) {
      checkBounds(bounds, what);
      const children = first?.includes(ourName) ? first : await untilDone(zk, what, () => zk.getChildren(base), bounds);
      first = null;
      const decision = driver.decide(driver.sort(children), ourName);
      if (decision.holds) return ourPath;
      const change = await waitForChange(zk, joinPath(base, decision.watch), bounds, what);
      if (change === 'gone' && decision.holdsOnceGone === true) return ourPath;
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

/** How a wait on a watched node ended: it was deleted (or already gone), or something else calls for a fresh look. */
export type NodeChange = 'gone' | 'look again';

/**
 * Waits until `path` changes (deleted, usually) or the connection state
 * says to look again; rejects when the session is lost or the bounds are spent.
 * The watch is set with getData, so nothing is left behind when the node is already gone.
 */
export function waitForChange(zk: ZooKeeper, path: string, bounds: OperationBounds, what: string): Promise<NodeChange> {
  const tracker = ConnectionStateTracker.for(zk);
  return new Promise<NodeChange>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: { change: NodeChange } | { error: unknown }): void => {
      if (done) return;
      done = true;
      tracker.off('state', onState);
      bounds.signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      if ('change' in outcome) resolve(outcome.change);
      else reject(outcome.error);
    };
    const onState = (s: ConnectionState): void => {
      if (s === ConnectionState.LOST) finish({ error: new SessionLostError(`${what}: the session was lost while waiting`) });
      else if (s === ConnectionState.RECONNECTED) finish({ change: 'look again' });
    };
    const onAbort = (): void => finish({ error: abortReason(bounds.signal!) });
    if (bounds.signal?.aborted) return onAbort();
    tracker.on('state', onState);
    bounds.signal?.addEventListener('abort', onAbort, { once: true });
    if (bounds.deadline !== undefined) {
      timer = setTimeout(() => finish({ error: new AcquireTimeoutError(`${what}: timed out`) }), Math.max(0, bounds.deadline - Date.now()));
    }
    const watcher = (ev: { type: number }): void => {
      // State-only events (type None) are handled through the tracker.
      if (ev.type === EventType.NodeDeleted) finish({ change: 'gone' });
      else if (ev.type !== EventType.None) finish({ change: 'look again' });
    };
    zk.getData(path, watcher).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof KeeperError && err.code === -101) finish({ change: 'gone' }); // deleted before the watch was set
        else if (err instanceof KeeperError && err.retriable) finish({ change: 'look again' }); // after reconnecting
        else finish({ error: toLost(err, what) });
      },
    );
  });
}
