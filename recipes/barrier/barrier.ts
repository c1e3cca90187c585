import { NoNodeError, NodeExistsError, ZooKeeper, CreateMode } from '../../src';
import { checkRecipePath, createWithParents } from '../cache/support/recipe-paths';
import { Deadline, Wakeup, WaitOptions, retryForever, retryIdempotent, assertOpen } from '../cache/support/recipe-wait';

/**
 * Barrier: one node that holds everyone back while it exists (Curator's
 * DistributedBarrier, same layout: the barrier is the node at `path`).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { Barrier } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const gate = new Barrier(zk, '/app/gates/deploy');
 * await gate.set();                                 // the coordinator closes the gate
 * // ... workers elsewhere: `await new Barrier(zk2, '/app/gates/deploy').wait({ timeout: 60_000 })`
 * await gate.remove();                              // everyone waiting goes on
 * ```
 *
 * SUSPENDED: a waiter keeps waiting; its exists-watch is re-registered by
 * the client on reconnect, and the barrier is checked again on RECONNECTED,
 * so a removal made while disconnected is never missed.
 * LOST: a pending wait() rejects with SessionLostError (the handle is
 * dead). The barrier node is persistent, so set() and remove() are not
 * affected by anybody's session.
 */
export class Barrier {
  private readonly wakeup = new Wakeup();

  /** A barrier at `path` (validated: RecipeArgumentError when invalid). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The barrier node: the barrier is up while it exists. */
    readonly path: string,
  ) {
    checkRecipePath(path, 'barrier path');
  }

  /** Closes the barrier (creates the node; parents as containers). Setting a set barrier is fine. */
  async set(): Promise<void> {
    assertOpen(this.zk, `Barrier ${this.path}`);
    await retryForever(this.zk, async () => {
      try {
        await createWithParents(this.zk, this.path, null, CreateMode.PERSISTENT);
      } catch (err) {
        // A retry after a lost reply finds its own create: the barrier is set either way.
        if (!(err instanceof NodeExistsError)) throw err;
      }
    });
  }

  /** Opens the barrier (deletes the node); removing an open barrier is fine. */
  async remove(): Promise<void> {
    assertOpen(this.zk, `Barrier ${this.path}`);
    await retryForever(this.zk, async () => {
      try {
        await this.zk.delete(this.path);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    });
  }

  /** True while the barrier is set. */
  async isSet(): Promise<boolean> {
    assertOpen(this.zk, `Barrier ${this.path}`);
    return (await retryForever(this.zk, () => this.zk.exists(this.path))) !== null;
  }

  /**
   * Waits until the barrier is removed. Resolves true when open, false when
   * `timeout` passed first; rejects with the signal's reason on abort.
   */
  async wait(options: WaitOptions = {}): Promise<boolean> {
    assertOpen(this.zk, `Barrier ${this.path}`);
    const deadline = new Deadline(options.timeout);
    for (;;) {
      const gen = this.wakeup.generation;
      const got = await retryIdempotent(this.zk, () => this.zk.exists(this.path, this.wakeup.watcher), deadline, options.signal);
      if (got === undefined) return false; // deadline while disconnected
      if (got === null) return true;
      if ((await this.wakeup.sleep(this.zk, gen, deadline, options.signal)) === 'timeout') {
        // One last look: the removal may have raced the timer.
        return (await this.zk.exists(this.path).catch(() => 'unknown')) === null;
      }
    }
  }
}
