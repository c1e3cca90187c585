import { randomUUID } from 'crypto';
import { CreateMode, NoNodeError, NodeExistsError, ZooKeeper } from '../../src';
import { RecipeArgumentError } from '../util/errors';
import { RecipeStateError } from '../cache/support/recipe-errors';
import { checkRecipePath, createWithParents, joinPath } from '../cache/support/recipe-paths';
import { Deadline, Wakeup, WaitOptions, retryForever, retryIdempotent, assertOpen } from '../cache/support/recipe-wait';

const READY_NODE = 'ready';

/**
 * DoubleBarrier: a group of `memberCount` processes enter together and
 * leave together (Curator's DistributedDoubleBarrier, same layout: each
 * member is an ephemeral `<path>/<uuid>`, and `<path>/ready` is created by
 * the member whose arrival completes the group).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { DoubleBarrier } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * await zk.connected();
 * const b = new DoubleBarrier(zk, '/app/round-7', 3);
 * if (await b.enter({ timeout: 30_000 })) {      // resolves once all 3 have entered
 *   // ... the computation every member runs at the same time ...
 *   await b.leave();                               // resolves once all 3 have left
 * }
 * ```
 *
 * SUSPENDED: enter() and leave() keep waiting (their watches are
 * re-registered on reconnect and the state is read again on RECONNECTED).
 * LOST: the member node was ephemeral and is gone; a pending enter() or
 * leave() rejects with SessionLostError. Other members waiting in
 * enter() then wait for a replacement; members in leave() treat the gone
 * node as having left.
 */
export class DoubleBarrier {
  /** This member's ephemeral node (`<path>/<uuid>`). */
  readonly ourPath: string;
  private readonly readyPath: string;
  private readonly wakeup = new Wakeup();
  private entered = false;
  private ourSession = 0n;

  /** A double barrier at `path` for `memberCount` members (an integer >= 1). */
  constructor(
    private readonly zk: ZooKeeper,
    /** The barrier's node: members' nodes and `ready` are its children. */
    readonly path: string,
    /** How many members make the group. */
    readonly memberCount: number,
  ) {
    checkRecipePath(path, 'barrier path');
    if (!Number.isInteger(memberCount) || memberCount < 1) {
      throw new RecipeArgumentError(`memberCount must be an integer >= 1 (got ${String(memberCount)})`);
    }
    this.ourPath = joinPath(path, randomUUID());
    this.readyPath = joinPath(path, READY_NODE);
  }

  /**
   * Joins the barrier and waits until `memberCount` members have joined.
   * Resolves true then, false when `timeout` passed first (the member
   * node stays: call leave() to withdraw).
   */
  async enter(options: WaitOptions = {}): Promise<boolean> {
    assertOpen(this.zk, `DoubleBarrier ${this.path}`);
    if (this.entered) throw new RecipeStateError(`already entered ${this.path}`);
    const deadline = new Deadline(options.timeout);
    const readyAtStart = await retryForever(this.zk, () => this.zk.exists(this.readyPath, this.wakeup.watcher), options.signal);
    await this.createOurNode();
    this.entered = true;
    if (readyAtStart !== null) return true;
    for (;;) {
      const gen = this.wakeup.generation;
      const children = await retryIdempotent(this.zk, () => this.zk.getChildren(this.path), deadline, options.signal);
      if (children === undefined) return false;
      if (children.includes(READY_NODE) || children.length >= this.memberCount) {
        await retryForever(this.zk, async () => {
          try {
            await this.zk.create(this.readyPath);
          } catch (err) {
            if (!(err instanceof NodeExistsError)) throw err;
          }
        });
        return true;
      }
      const ready = await retryIdempotent(this.zk, () => this.zk.exists(this.readyPath, this.wakeup.watcher), deadline, options.signal);
      if (ready === undefined) return false;
      if (ready !== null) return true;
      if ((await this.wakeup.sleep(this.zk, gen, deadline, options.signal)) === 'timeout') return false;
    }
  }

  /**
   * Leaves and waits until every member has left. Resolves true then, false
   * when `timeout` passed first.
   */
  async leave(options: WaitOptions = {}): Promise<boolean> {
    assertOpen(this.zk, `DoubleBarrier ${this.path}`);
    if (!this.entered) throw new RecipeStateError(`leave() before enter() on ${this.path}`);
    const deadline = new Deadline(options.timeout);
    const ourName = this.ourPath.slice(this.path.length + 1);
    let ourNodeShouldExist = true;
    let result = true;
    for (;;) {
      const gen = this.wakeup.generation;
      const all = await retryIdempotent(this.zk, () => this.zk.getChildren(this.path).catch(noNodeAs<string[]>([])), deadline, options.signal);
      if (all === undefined) {
        result = false;
        break;
      }
      const children = all.filter((c) => c !== READY_NODE).sort();
      if (children.length === 0) break;
      const ourIndex = children.indexOf(ourName);
      if (ourIndex < 0 && ourNodeShouldExist) {
        if (this.zk.sessionId !== this.ourSession) break; // our ephemeral went with an old session
        throw new RecipeStateError(`our member node ${this.ourPath} is missing`);
      }
      if (children.length === 1) {
        if (ourNodeShouldExist) await this.deleteOurNode();
        break;
      }
      let watched;
      if (ourIndex === 0) {
        // The lowest member leaves last: wait for the highest to go.
        const highest = joinPath(this.path, children[children.length - 1]);
        watched = await retryIdempotent(this.zk, () => this.zk.exists(highest, this.wakeup.watcher), deadline, options.signal);
      } else {
        const lowest = joinPath(this.path, children[0]);
        watched = await retryIdempotent(this.zk, () => this.zk.exists(lowest, this.wakeup.watcher), deadline, options.signal);
        if (ourNodeShouldExist) await this.deleteOurNode();
        ourNodeShouldExist = false;
      }
      if (watched === undefined) {
        result = false;
        break;
      }
      if (watched !== null && (await this.wakeup.sleep(this.zk, gen, deadline, options.signal)) === 'timeout') {
        result = false;
        break;
      }
    }
    if (result) {
      await retryForever(this.zk, () => this.zk.delete(this.readyPath).catch(noNodeAs<void>(undefined)));
      this.entered = false;
    }
    return result;
  }

  private async createOurNode(): Promise<void> {
    await retryForever(this.zk, async () => {
      try {
        await createWithParents(this.zk, this.ourPath, null, CreateMode.EPHEMERAL);
      } catch (err) {
        // A retry after a lost reply: the node is ours when this session owns it.
        if (!(err instanceof NodeExistsError)) throw err;
        const stat = await this.zk.exists(this.ourPath);
        if (stat === null || stat.ephemeralOwner !== this.zk.sessionId) throw err;
      }
    });
    this.ourSession = this.zk.sessionId;
  }

  private async deleteOurNode(): Promise<void> {
    await retryForever(this.zk, () => this.zk.delete(this.ourPath).catch(noNodeAs<void>(undefined)));
  }
}

function noNodeAs<T>(value: T): (err: unknown) => T {
  return (err) => {
    if (err instanceof NoNodeError) return value;
    throw err;
  };
}
