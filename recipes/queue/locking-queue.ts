import { randomUUID } from 'crypto';
import { CreateMode, NoNodeError, NodeExistsError, Op, ZooKeeper, isRetriable } from '../../src';
import type { Data } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { IndeterminateResultError, RecipeStateError, isSessionEnd } from '../cache/support/recipe-errors';
import { checkRecipePath, ensureContainers, joinPath } from '../cache/support/recipe-paths';
import { Deadline, Wakeup, WaitOptions, retryForever, retryIdempotent, untilConnected, assertOpen } from '../cache/support/recipe-wait';
import { deserializeItems, serializeItems } from './item-serializer';
import { toItemBuffer } from './queue-data';
import { QueuePutter } from './queue-putter';

const PREFIX = 'queue-';

/** Options of a {@link LockingQueue}. */
export interface LockingQueueOptions {
  /** Where the per-item locks live (default `<path>-locks`). */
  lockPath?: string;
}

/** An item held by this consumer until ack() or release(). */
export class QueueItem {
  private settled = false;
  private _lost = false;

  /** @internal */
  constructor(
    private readonly queue: LockingQueue,
    /** The item's node name, e.g. `queue-0000000007`. */
    readonly name: string,
    /** The payload. */
    readonly data: Buffer,
    /** @internal */ readonly sessionId: bigint,
  ) {}

  /** True once the session holding the item ended: the item goes to another consumer. */
  get lost(): boolean {
    return this._lost;
  }

  /** @internal */
  markLost(): void {
    this._lost = true;
  }

  /** Removes the item for good. */
  async ack(): Promise<void> {
    this.settle('ack');
    await this.queue.finish(this, true);
  }

  /** Hands the item back for redelivery. */
  async release(): Promise<void> {
    this.settle('release');
    await this.queue.finish(this, false);
  }

  private settle(what: string): void {
    if (this.settled) throw new RecipeStateError(`${what}() on queue item ${this.name} that was already acked or released`);
    this.settled = true;
  }
}

/**
 * LockingQueue: take an item, work on it, then ack() to remove it or
 * release() to hand it back; an item whose consumer dies (its session ends)
 * is redelivered to another consumer. Layout of Curator's DistributedQueue
 * with a lock path: items `<path>/queue-<seq>` in Curator's item format,
 * and a consumer holds an item by the ephemeral `<lockPath>/<item name>`
 * (default lockPath: `<path>-locks`).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { LockingQueue } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const q = new LockingQueue(zk, '/app/tasks');
 * await q.put(Buffer.from('resize image 42'));
 * const item = await q.take({ timeout: 10_000 });
 * if (item) {
 *   try { await work(item.data); await item.ack(); }   // gone for good
 *   catch { await item.release(); }                    // back in the queue for someone else
 * }
 * ```
 *
 * SUSPENDED: a held item is in doubt (if the session expires, its lock goes
 * and the item is redelivered); ack() waits for the reconnect.
 * LOST: every held item is released by the server (its lock was
 * ephemeral); `item.lost` becomes true, ack() rejects with
 * RecipeStateError (someone else will get the item) unless the ack was in
 * flight, when it rejects with IndeterminateResultError.
 */
export class LockingQueue {
  /** Where consumers' per-item locks live (option lockPath, default `<path>-locks`). */
  readonly lockPath: string;
  private readonly putter: QueuePutter;
  private readonly wakeup = new Wakeup();
  private readonly held = new Set<QueueItem>();
  private ensured = false;

  /** A locking queue at `path` (RecipeArgumentError when a path is invalid). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The queue's node: items are its children. */
    readonly path: string,
    options: LockingQueueOptions = {},
  ) {
    checkRecipePath(path, 'queue path');
    this.lockPath = checkRecipePath(options.lockPath ?? `${path}-locks`, 'lock path');
    if (this.lockPath === path || this.lockPath.startsWith(path + '/')) {
      throw new RecipeStateError(`lockPath ${this.lockPath} must not be inside the queue ${path}`);
    }
    this.putter = new QueuePutter(zk, path);
  }

  // Listens to the connection only while something is held, so short-lived
  // queue objects leave no listener behind on the handle's tracker.
  private readonly onState = (s: ConnectionState): void => {
    if (s !== ConnectionState.LOST) return;
    for (const item of this.held) item.markLost();
    this.held.clear();
    ConnectionStateTracker.for(this.zk).off('state', this.onState);
  };

  private hold(item: QueueItem): void {
    if (this.held.size === 0) ConnectionStateTracker.for(this.zk).on('state', this.onState);
    this.held.add(item);
  }

  private unhold(item: QueueItem): void {
    if (this.held.delete(item) && this.held.size === 0) ConnectionStateTracker.for(this.zk).off('state', this.onState);
  }

  /** Appends an item. */
  async put(data: Data): Promise<void> {
    assertOpen(this.zk, `queue ${this.path}`);
    await this.putter.put(PREFIX, serializeItems([toItemBuffer(data)]));
  }

  /** How many items are queued (held ones included). */
  async size(): Promise<number> {
    assertOpen(this.zk, `queue ${this.path}`);
    await this.ensure();
    const children = await retryForever(this.zk, () => this.zk.getChildren(this.path));
    return children.filter((c) => c.startsWith(PREFIX)).length;
  }

  /**
   * Takes and holds the first item nobody holds, waiting for one; null when
   * `timeout` passed first.
   */
  async take(options: WaitOptions = {}): Promise<QueueItem | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    const deadline = new Deadline(options.timeout);
    await this.ensure();
    for (;;) {
      const gen = this.wakeup.generation;
      const children = await retryIdempotent(this.zk, () => this.listWatched(), deadline, options.signal);
      if (children === undefined) return null;
      for (const name of children) {
        const item = await this.tryHold(name, deadline, options.signal);
        if (item === undefined) return null;
        if (item !== null) return item;
      }
      if ((await this.wakeup.sleep(this.zk, gen, deadline, options.signal)) === 'timeout') return null;
    }
  }

  /** @internal ack (true) or release (false) of a held item. */
  async finish(item: QueueItem, ack: boolean): Promise<void> {
    const lock = joinPath(this.lockPath, item.name);
    const itemPath = joinPath(this.path, item.name);
    if (item.lost || this.zk.sessionId !== item.sessionId || ConnectionStateTracker.for(this.zk).isLost()) {
      this.unhold(item);
      if (!ack) return; // released already by the session's end
      throw new RecipeStateError(`the session holding ${itemPath} ended: the item goes to another consumer`);
    }
    let sent = false;
    try {
      await retryForever(this.zk, async () => {
        try {
          sent = true;
          if (ack) await this.zk.multi([Op.delete(itemPath), Op.delete(lock)]);
          else await this.zk.delete(lock);
        } catch (err) {
          // After a lost reply the retry finds the work done (only we could do it: we hold the lock).
          if (err instanceof NoNodeError) return;
          throw err;
        }
      });
    } catch (err) {
      if (isSessionEnd(err) && sent) {
        throw new IndeterminateResultError(`session lost while ${ack ? 'acking' : 'releasing'} ${itemPath}`, { cause: err });
      }
      throw err;
    } finally {
      this.unhold(item);
    }
  }

  private async ensure(): Promise<void> {
    if (this.ensured) return;
    await retryForever(this.zk, async () => {
      await ensureContainers(this.zk, this.path);
      await ensureContainers(this.zk, this.lockPath);
    });
    this.ensured = true;
  }

  /** Items in order; watches both the items and the locks (a dead holder's lock going away wakes us). */
  private async listWatched(): Promise<string[]> {
    try {
      const [children] = await Promise.all([this.zk.getChildren(this.path, this.wakeup.watcher), this.zk.getChildren(this.lockPath, this.wakeup.watcher)]);
      return children.filter((c) => c.startsWith(PREFIX)).sort();
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.ensured = false;
      await this.ensure();
      return this.listWatched();
    }
  }

  /** Locks and reads one item: the item, null when someone else has it, undefined at the deadline. */
  private async tryHold(name: string, deadline: Deadline, signal?: AbortSignal): Promise<QueueItem | null | undefined> {
    const lock = joinPath(this.lockPath, name);
    const itemPath = joinPath(this.path, name);
    const owner = randomUUID();
    for (;;) {
      try {
        await this.zk.create(lock, Buffer.from(owner), { mode: CreateMode.EPHEMERAL });
        break;
      } catch (err) {
        if (err instanceof NodeExistsError) {
          // Ours when a create whose reply was lost went through.
          const got = await retryIdempotent(this.zk, () => this.zk.getData(lock).catch(noNode), deadline, signal);
          if (got === undefined) return undefined;
          if (got === null) continue; // its holder just let go: try again
          if (got.stat.ephemeralOwner === this.zk.sessionId && got.data?.toString() === owner) break;
          return null;
        }
        if (err instanceof NoNodeError) {
          this.ensured = false;
          await this.ensure();
          continue;
        }
        if (!isRetriable(err)) throw err;
        if (!(await untilConnected(this.zk, deadline, signal))) return undefined;
      }
    }
    const sessionId = this.zk.sessionId;
    const got = await retryIdempotent(this.zk, () => this.zk.getData(itemPath).catch(noNode), deadline, signal);
    if (got === undefined || got === null) {
      // Acked by its previous holder between our listing and our lock.
      await retryForever(this.zk, () => this.zk.delete(lock).catch(noNode));
      return got === undefined ? undefined : null;
    }
    const data = deserializeItems(got.data, itemPath)[0] ?? Buffer.alloc(0);
    const item = new QueueItem(this, name, data, sessionId);
    this.hold(item);
    return item;
  }
}

function noNode(err: unknown): null {
  if (err instanceof NoNodeError) return null;
  throw err;
}

