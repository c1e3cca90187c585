import { ZooKeeper } from '../../src';
import type { Data } from '../../src';
import { checkRecipePath } from '../cache/support/recipe-paths';
import { WaitOptions, assertOpen } from '../cache/support/recipe-wait';
import { QueuePutter } from './queue-putter';
import { QueueTaker } from './queue-taker';
import { toItemBuffer } from './queue-data';

const PREFIX = 'qn-';

/**
 * DistributedQueue: a FIFO queue of byte items; each item is taken by
 * exactly one of the competing consumers. Layout of Curator's
 * SimpleDistributedQueue: items are persistent-sequential `<path>/qn-<seq>`
 * holding the raw bytes, taken in sequence order.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { DistributedQueue } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const q = new DistributedQueue(zk, '/app/jobs');
 * await q.put(Buffer.from('job-1'));
 * const job = await q.take({ timeout: 5000 });   // Buffer, or null after 5 s of an empty queue
 * ```
 *
 * Exactly once: put() and take() write with an ephemeral receipt in the
 * same multi, so a reply lost to a connection drop is resolved by looking
 * for the receipt instead of guessing (see queue-putter.ts and
 * queue-taker.ts). FIFO holds per producer and for one consumer; several
 * consumers each get the lowest item they can claim.
 *
 * SUSPENDED: put() and take() wait for the reconnect and go on; nothing is
 * lost or duplicated. LOST: the handle is dead; a put() or take() whose
 * write was in flight rejects with IndeterminateResultError (it may or may
 * not have happened), any other pending call with SessionLostError.
 */
export class DistributedQueue {
  private readonly putter: QueuePutter;
  private readonly taker: QueueTaker;

  /** A queue at `path` (RecipeArgumentError when invalid). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The queue's node: items are its children. */
    readonly path: string,
  ) {
    checkRecipePath(path, 'queue path');
    this.putter = new QueuePutter(zk, path);
    this.taker = new QueueTaker(zk, path, PREFIX);
  }

  /** Appends an item; resolves once it is durably queued. */
  async put(data: Data): Promise<void> {
    assertOpen(this.zk, `queue ${this.path}`);
    await this.putter.put(PREFIX, toItemBuffer(data));
  }

  /** Takes the head item, waiting for one; null when `timeout` passed with the queue empty. */
  async take(options: WaitOptions = {}): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    const got = await this.taker.take(true, options);
    return got === null ? null : got.data ?? Buffer.alloc(0);
  }

  /** Takes the head item if there is one, without waiting. */
  async poll(): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    const got = await this.taker.take(false);
    return got === null ? null : got.data ?? Buffer.alloc(0);
  }

  /** The head item without taking it (null when empty). */
  async peek(): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    const got = await this.taker.peek();
    return got === null ? null : got.data ?? Buffer.alloc(0);
  }

  /** How many items are queued now. */
  async size(): Promise<number> {
    assertOpen(this.zk, `queue ${this.path}`);
    return ((await this.taker.items(false)) ?? []).length;
  }
}
