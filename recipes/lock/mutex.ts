import { Data, ZooKeeper } from '../../src';
import { RecipeArgumentError } from '../util/errors';
import { LockLayout, standardDriver } from './lock-internals';
import { SequentialLock } from './sequential-lock';

/** Options of a {@link Mutex}. */
export interface MutexOptions {
  /** Node layout: 'curator' (default) or 'kazoo'. */
  layout?: LockLayout;
  /** Data stored in the lock node (kazoo calls it the identifier). */
  data?: Data;
}

/** Curator's lock node name. */
export const CURATOR_LOCK_NAME = 'lock-';
/** kazoo's lock node name. */
export const KAZOO_LOCK_NAME = '__lock__';

/**
 * A distributed mutex, re-entrant for the same Mutex object. Same layout
 * as Curator 5's InterProcessMutex (`<path>/_c_<uuid>-lock-<seq>`), or
 * kazoo's Lock (`<path>/<uuid>__lock__<seq>`) with `{ layout: 'kazoo' }`.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { Mutex } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const mutex = new Mutex(zk, '/locks/invoices');
 * {
 *   await using hold = await mutex.acquire({ timeout: 10_000 });
 *   // ... exclusive work ...
 * } // released here, even on throw
 * await zk.close();
 * ```
 *
 * SUSPENDED: the connection dropped; the lock node still exists while the
 * session lives, but the hold is in doubt ('suspended' event): stop work
 * that must not run twice until 'reconnected'. LOST: the session ended and
 * its node with it: the mutex no longer claims the lock (isAcquired()
 * false, 'lost' event), a pending acquire rejects with SessionLostError.
 * release() retries its delete through connection loss.
 */
export class Mutex extends SequentialLock {
  /** A mutex on `path` (created on first use, as container nodes). */
  constructor(zk: ZooKeeper, path: string, options: MutexOptions = {}) {
    const layout = options.layout ?? 'curator';
    if (layout !== 'curator' && layout !== 'kazoo') throw new RecipeArgumentError(`layout must be 'curator' or 'kazoo' (got ${String(layout)})`);
    super(zk, path, standardDriver(layout, layout === 'kazoo' ? KAZOO_LOCK_NAME : CURATOR_LOCK_NAME), options.data, 'Mutex');
  }
}
