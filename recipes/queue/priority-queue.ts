import { ZooKeeper } from '../../src';
import { RecipeArgumentError } from '../util/errors';
import type { Data } from '../../src';
import { checkRecipePath } from '../cache/support/recipe-paths';
import { WaitOptions, assertOpen } from '../cache/support/recipe-wait';
import { deserializeItems, serializeItems } from './item-serializer';
import { toItemBuffer } from './queue-data';
import { QueuePutter } from './queue-putter';
import { QueueTaker, TakenNode } from './queue-taker';

const PREFIX = 'queue-';

/** Curator's priority part of an item name. */
export function priorityToString(priority: number): string {
  const hex = (priority >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return (priority >= 0 ? '1' : '0') + hex;
}

/**
 * PriorityQueue: items come out lowest priority number first, FIFO within a
 * priority; each item is taken by exactly one consumer. Layout and bytes of
 * Curator's DistributedPriorityQueue: `<path>/queue-<P><seq>`, where P is
 * "1" + the priority as 8 hex digits for priority >= 0 and "0" + its 32-bit
 * two's complement for a negative one (so plain name order is priority
 * order), and the data in Curator's item format (item-serializer.ts).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { PriorityQueue } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const q = new PriorityQueue(zk, '/app/urgent-jobs');
 * await q.put(Buffer.from('later'), 10);
 * await q.put(Buffer.from('first'), -5);
 * (await q.take())!.toString();   // 'first'
 * ```
 *
 * SUSPENDED and LOST: as DistributedQueue (waits ride out a disconnect; a
 * write in flight when the session is lost rejects with
 * IndeterminateResultError).
 */
export class PriorityQueue {
  private readonly putter: QueuePutter;
  private readonly taker: QueueTaker;
  private readonly leftovers: Buffer[] = [];

  /** A priority queue at `path` (RecipeArgumentError when invalid). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The queue's node: items are its children. */
    readonly path: string,
  ) {
    checkRecipePath(path, 'queue path');
    this.putter = new QueuePutter(zk, path);
    this.taker = new QueueTaker(zk, path, PREFIX);
  }

  /** Adds an item with a priority (a 32-bit integer; lower comes out first; default 0). */
  async put(data: Data, priority = 0): Promise<void> {
    assertOpen(this.zk, `queue ${this.path}`);
    if (!Number.isInteger(priority) || priority < -0x80000000 || priority > 0x7fffffff) {
      throw new RecipeArgumentError(`priority must be a 32-bit integer (got ${String(priority)})`);
    }
    await this.putter.put(PREFIX + priorityToString(priority), serializeItems([toItemBuffer(data)]));
  }

  /** Takes the first item, waiting for one; null when `timeout` passed with the queue empty. */
  async take(options: WaitOptions = {}): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    if (this.leftovers.length > 0) return this.leftovers.shift()!;
    return this.first(await this.taker.take(true, options));
  }

  /** Takes the first item if there is one, without waiting. */
  async poll(): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    if (this.leftovers.length > 0) return this.leftovers.shift()!;
    return this.first(await this.taker.take(false));
  }

  /** The first item without taking it. */
  async peek(): Promise<Buffer | null> {
    assertOpen(this.zk, `queue ${this.path}`);
    if (this.leftovers.length > 0) return this.leftovers[0];
    return this.first(await this.taker.peek());
  }

  /** How many nodes are queued now. */
  async size(): Promise<number> {
    assertOpen(this.zk, `queue ${this.path}`);
    return ((await this.taker.items(false)) ?? []).length;
  }

  private first(node: TakenNode | null): Buffer | null {
    if (node === null) return null;
    const items = deserializeItems(node.data, `${this.path}/${node.name}`);
    // Curator's putMulti packs several items in one node: the rest are
    // handed out by the next calls on this object before the next node.
    const head = items.shift() ?? Buffer.alloc(0);
    this.leftovers.push(...items);
    return head;
  }
}
