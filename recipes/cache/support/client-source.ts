/**
 * Where a long-lived recipe (a cache, a group member) gets its handle.
 * A ZooKeeper handle is dead after its session expires, so a recipe that
 * must outlive a session takes a factory: on LOST it asks the factory for a
 * live handle (typically a new ZooKeeper on the same connect string, or the
 * application's current one) and starts over on the new session.
 */
import { KeeperState, ZooKeeper } from '../../../src';
import { RecipeArgumentError } from '../../util/errors';

/** A handle, or a function that returns a live handle (called again after each session loss). */
export type ClientSource = ZooKeeper | (() => ZooKeeper | Promise<ZooKeeper>);

/** True when the handle can never serve again (expired, closed, auth failed). */
export function isDead(zk: ZooKeeper): boolean {
  const s = zk.state;
  return s === KeeperState.Expired || s === KeeperState.Closed || s === KeeperState.AuthFailed;
}

/** Holds the current handle of a ClientSource. */
export class HandleSource {
  private handle: ZooKeeper | null;
  private readonly factory: (() => ZooKeeper | Promise<ZooKeeper>) | null;

  constructor(source: ClientSource) {
    if (source instanceof ZooKeeper) {
      this.handle = source;
      this.factory = null;
    } else if (typeof source === 'function') {
      this.handle = null;
      this.factory = source;
    } else {
      throw new RecipeArgumentError('expected a ZooKeeper handle or a function returning one');
    }
  }

  /** True when a new session can be had after a loss. */
  get renewable(): boolean {
    return this.factory !== null;
  }

  /** The current handle (asks the factory the first time). */
  async get(): Promise<ZooKeeper> {
    if (this.handle === null) this.handle = await this.fresh();
    return this.handle;
  }

  /** The handle last returned, if any. */
  peek(): ZooKeeper | null {
    return this.handle;
  }

  /** Replaces a dead handle with a live one from the factory; null without a factory. */
  async renew(): Promise<ZooKeeper | null> {
    if (this.factory === null) return null;
    this.handle = await this.fresh();
    return this.handle;
  }

  private async fresh(): Promise<ZooKeeper> {
    const zk = await this.factory!();
    if (!(zk instanceof ZooKeeper)) throw new RecipeArgumentError('the client factory must return a ZooKeeper handle');
    if (isDead(zk)) throw new RecipeArgumentError('the client factory returned a closed or expired handle');
    return zk;
  }
}
