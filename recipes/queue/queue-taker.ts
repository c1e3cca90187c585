/**
 * How a consumer takes an item exactly once, shared by DistributedQueue and
 * PriorityQueue.
 *
 * Curator and kazoo read an item and then delete it; whoever's delete
 * succeeds owns it. When that delete's reply is lost (connection loss) the
 * consumer cannot tell whether it deleted the item, and the item is either
 * lost or taken twice. We delete in a multi together with the creation of an
 * ephemeral receipt `<queue>/taken-<consumer uuid>-<item>`: after a lost
 * reply, the receipt says whether the multi was applied (the session
 * survives a connection loss, so its receipt does too). The receipt is then
 * deleted. Receipts do not carry the item prefix, so Curator's consumers
 * skip them.
 *
 * The one case left: the session expires while the multi is in flight; the
 * receipt went with the session, and take() rejects with
 * IndeterminateResultError (the item may have been consumed by nobody).
 */
import { randomUUID } from 'crypto';
import { CreateMode, KeeperError, NoNodeError, Op, ZooKeeper, isRetriable } from '../../src';
import { IndeterminateResultError, isSessionEnd } from '../cache/support/recipe-errors';
import { ensureContainers, joinPath } from '../cache/support/recipe-paths';
import { Deadline, Wakeup, WaitOptions, retryForever, retryIdempotent, untilConnected } from '../cache/support/recipe-wait';

export const RECEIPT_PREFIX = 'taken-';

/** A taken node: its name and its raw data. */
export interface TakenNode {
  name: string;
  data: Buffer | null;
}

export class QueueTaker {
  private readonly consumerId = randomUUID();
  private readonly wakeup = new Wakeup();
  private ensured = false;

  constructor(private readonly zk: ZooKeeper, private readonly path: string, private readonly prefix: string) {}

  /** Creates the queue node (as a container) once. */
  async ensure(): Promise<void> {
    if (this.ensured) return;
    await retryForever(this.zk, () => ensureContainers(this.zk, this.path));
    this.ensured = true;
  }

  /** The item names in queue order. */
  async items(watch: boolean): Promise<string[] | undefined> {
    return this.itemsUntil(watch, new Deadline());
  }

  private async itemsUntil(watch: boolean, deadline: Deadline, signal?: AbortSignal): Promise<string[] | undefined> {
    for (;;) {
      await this.ensure();
      try {
        const children = await retryIdempotent(this.zk, () => this.zk.getChildren(this.path, watch ? this.wakeup.watcher : undefined), deadline, signal);
        return children?.filter((c) => c.startsWith(this.prefix)).sort();
      } catch (err) {
        // The container was reaped while empty: make it again.
        if (!(err instanceof NoNodeError)) throw err;
        this.ensured = false;
      }
    }
  }

  /** The first item without taking it (null when empty). */
  async peek(): Promise<TakenNode | null> {
    for (;;) {
      const items = (await this.items(false)) ?? [];
      if (items.length === 0) return null;
      for (const name of items) {
        const got = await retryForever(this.zk, () => this.zk.getData(joinPath(this.path, name)).catch(noNode));
        if (got !== null) return { name, data: got.data };
      }
    }
  }

  /**
   * Takes the first item, waiting for one when `block`; null when the queue
   * stayed empty until the deadline (or at once without `block`).
   */
  async take(block: boolean, options: WaitOptions = {}): Promise<TakenNode | null> {
    const deadline = new Deadline(options.timeout);
    for (;;) {
      const gen = this.wakeup.generation;
      const items = await this.itemsUntil(block, deadline, options.signal);
      if (items === undefined) return null;
      for (const name of items) {
        const itemPath = joinPath(this.path, name);
        const got = await retryIdempotent(this.zk, () => this.zk.getData(itemPath).catch(noNode), deadline, options.signal);
        if (got === undefined) return null;
        if (got === null) continue; // another consumer took it
        if (await this.claim(name)) return { name, data: got.data };
      }
      if (!block) return null;
      if ((await this.wakeup.sleep(this.zk, gen, deadline, options.signal)) === 'timeout') return null;
    }
  }

  /** Deletes the item with a receipt; true when this consumer took it. */
  private async claim(name: string): Promise<boolean> {
    const itemPath = joinPath(this.path, name);
    const receipt = joinPath(this.path, `${RECEIPT_PREFIX}${this.consumerId}-${name}`);
    for (;;) {
      try {
        await this.zk.multi([Op.delete(itemPath), Op.create(receipt, null, { mode: CreateMode.EPHEMERAL })]);
        this.dropReceipt(receipt);
        return true;
      } catch (err) {
        if (err instanceof KeeperError && err.opIndex !== undefined) {
          if (err instanceof NoNodeError && err.opIndex === 0) return false; // somebody else took it
          throw err;
        }
        if (isSessionEnd(err)) {
          throw new IndeterminateResultError(`session lost while taking ${itemPath}: the item may have been consumed`, { cause: err });
        }
        if (!isRetriable(err)) throw err;
      }
      // Reply lost: the receipt tells whether the multi was applied.
      try {
        await untilConnected(this.zk, new Deadline());
        if ((await retryForever(this.zk, () => this.zk.exists(receipt))) !== null) {
          this.dropReceipt(receipt);
          return true;
        }
        if ((await retryForever(this.zk, () => this.zk.exists(itemPath))) === null) return false;
      } catch (err) {
        if (isSessionEnd(err)) {
          throw new IndeterminateResultError(`session lost while taking ${itemPath}: the item may have been consumed`, { cause: err });
        }
        throw err;
      }
    }
  }

  private dropReceipt(receipt: string): void {
    // Ephemeral, so a failure here only leaves it until the session ends.
    void retryForever(this.zk, () => this.zk.delete(receipt).catch(noNode)).catch(() => undefined);
  }
}

function noNode(err: unknown): null {
  if (err instanceof NoNodeError) return null;
  throw err;
}
