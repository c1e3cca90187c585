import { Data, ZooKeeper } from '../../src';
import { curatorProtectedPrefix } from '../util/protected-create';
import { sortBySequence } from '../util/sequence-sort';
import { exclusiveDecision, LockDecision, LockDriver } from './lock-internals';
import { SequentialLock } from './sequential-lock';

/** Curator's name part of a read-lock node. */
export const READ_LOCK_NAME = '__READ__';
/** Curator's name part of a write-lock node. */
export const WRITE_LOCK_NAME = '__WRIT__';
const NAMES = [READ_LOCK_NAME, WRITE_LOCK_NAME];

/** Options of a {@link ReadWriteLock}. */
export interface ReadWriteLockOptions {
  /** Data stored in both halves' nodes. */
  data?: Data;
}

/**
 * A distributed read/write lock with Curator 5's InterProcessReadWriteLock
 * layout: `<path>/_c_<uuid>-__READ__<seq>` and `_c_<uuid>-__WRIT__<seq>`
 * under one parent. A writer holds when its node is first of all; a reader
 * holds when no writer's node is ahead of it (else it watches the first
 * such writer). The holder of the write lock may also take the read lock
 * (downgrade: take read, release write).
 *
 * ```ts
 * const rw = new ReadWriteLock(zk, '/locks/catalog');
 * {
 *   await using w = await rw.writeLock.acquire();
 *   await using r = await rw.readLock.acquire();   // allowed: this object holds the write lock
 * }
 * ```
 *
 * SUSPENDED: held locks are in doubt ('suspended' on each half). LOST: the
 * session's nodes are gone, neither half claims a hold ('lost').
 */
export class ReadWriteLock {
  /** The shared half: many readers at once, no writer. */
  readonly readLock: SequentialLock;
  /** The exclusive half. */
  readonly writeLock: SequentialLock;

  /** A read/write lock on `path` (created on first use, as a container node). */
  constructor(
    /** The handle the lock works through. */
    readonly zk: ZooKeeper,
    /** The lock's node: both halves' nodes are its children. */
    readonly path: string,
    options: ReadWriteLockOptions = {},
  ) {
    const sort = (children: readonly string[]): string[] => sortBySequence(children, NAMES);
    const writeDriver: LockDriver = {
      makePrefix: () => curatorProtectedPrefix() + WRITE_LOCK_NAME,
      sort,
      decide: (sorted, ourName) => exclusiveDecision(sorted, ourName, 1),
    };
    const readDriver: LockDriver = {
      makePrefix: () => curatorProtectedPrefix() + READ_LOCK_NAME,
      sort,
      decide: (sorted, ourName) => this.readDecision(sorted, ourName),
    };
    this.writeLock = new SequentialLock(zk, path, writeDriver, options.data, 'ReadWriteLock.writeLock');
    this.readLock = new SequentialLock(zk, path, readDriver, options.data, 'ReadWriteLock.readLock');
  }

  private readDecision(sorted: readonly string[], ourName: string): LockDecision {
    if (this.writeLock.isAcquired()) return { holds: true };
    let firstWriter = -1;
    let writersAhead = 0;
    for (let i = 0; i < sorted.length; i++) {
      const name = sorted[i];
      if (name === ourName) {
        // A lone writer ahead of us: once it is gone no writer can get ahead again (later nodes sort after ours).
        return firstWriter < 0 ? { holds: true } : { holds: false, watch: sorted[firstWriter], holdsOnceGone: writersAhead === 1 };
      }
      if (name.includes(WRITE_LOCK_NAME)) {
        if (firstWriter < 0) firstWriter = i;
        writersAhead++;
      }
    }
    return exclusiveDecision(sorted, ourName, 1); // throws LockNodeGoneError
  }
}
