import { CreateOptions, Data, Stat, WatchArg, ZooKeeper } from '../../src';
import { RecipeArgumentError } from './errors';
import { deleteRecursive, mkdirs } from './mkdirs';
import { validatePath } from './paths';

/**
 * A namespace: a chroot-like facade that prefixes every path with a base
 * path, for a recipe tree that shares a handle with other code.
 *
 * ```ts
 * const ns = new Namespace(zk, '/apps/billing');
 * await ns.create('/config', Buffer.from('{}'));      // creates /apps/billing/config (and /apps/billing)
 * const mutex = new Mutex(ns.zk, ns.resolve('/locks/db'));
 * ```
 * SUSPENDED and LOST mean what they mean for the underlying handle: calls
 * fail with the client's errors (ConnectionLossError, SessionExpiredError).
 */
export class Namespace {
  /** The server path every namespace path is under ('/' for none). */
  readonly base: string;
  private baseReady: Promise<string> | null = null;

  /** A facade over `zk` rooted at `base` (an absolute path; '/' is the identity). */
  constructor(
    /** The handle the namespace works through (give it to recipes with resolve()d paths). */
    readonly zk: ZooKeeper,
    base: string,
  ) {
    validatePath(base, 'namespace');
    this.base = base;
  }

  /** The server path of a namespace path: resolve('/a') = base + '/a'. */
  resolve(path: string): string {
    validatePath(path);
    if (this.base === '/') return path;
    return path === '/' ? this.base : this.base + path;
  }

  /** The namespace path of a server path (the inverse of resolve); throws when it is outside the namespace. */
  unresolve(serverPath: string): string {
    if (this.base === '/') return serverPath;
    if (serverPath === this.base) return '/';
    if (!serverPath.startsWith(this.base + '/')) throw new RecipeArgumentError(`'${serverPath}' is outside namespace '${this.base}'`);
    return serverPath.slice(this.base.length);
  }

  /** A namespace below this one. */
  child(path: string): Namespace {
    return new Namespace(this.zk, this.resolve(path));
  }

  /** Creates the base node (and its parents) once. */
  ensure(): Promise<string> {
    if (this.baseReady === null) {
      this.baseReady = mkdirs(this.zk, this.base);
      this.baseReady.catch(() => (this.baseReady = null));
    }
    return this.baseReady;
  }

  /** create() inside the namespace (the base is created first); returns the namespace path. */
  async create(path: string, data?: Data, options?: CreateOptions): Promise<string> {
    await this.ensure();
    return this.unresolve(await this.zk.create(this.resolve(path), data, options));
  }

  /** delete() inside the namespace. */
  async delete(path: string, version = -1): Promise<void> {
    return this.zk.delete(this.resolve(path), version);
  }

  /** exists() inside the namespace (a watcher's events carry server paths). */
  async exists(path: string, watch?: WatchArg): Promise<Stat | null> {
    return this.zk.exists(this.resolve(path), watch);
  }

  /** getData() inside the namespace. */
  async getData(path: string, watch?: WatchArg): Promise<{
    /** The node's data; null for none. */
    data: Buffer | null;
    /** The node's Stat. */
    stat: Stat;
  }> {
    return this.zk.getData(this.resolve(path), watch);
  }

  /** setData() inside the namespace. */
  async setData(path: string, data: Data, version = -1): Promise<Stat> {
    return this.zk.setData(this.resolve(path), data, version);
  }

  /** getChildren() inside the namespace. */
  async getChildren(path: string, watch?: WatchArg): Promise<string[]> {
    return this.zk.getChildren(this.resolve(path), watch);
  }

  /** mkdirs inside the namespace. */
  async mkdirs(path: string): Promise<string> {
    await mkdirs(this.zk, this.resolve(path));
    return path;
  }

  /** deleteRecursive inside the namespace ('/' deletes the namespace's base). */
  async deleteRecursive(path: string): Promise<void> {
    const target = this.resolve(path);
    await deleteRecursive(this.zk, target);
  }
}
