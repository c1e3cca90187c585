import { EventEmitter } from 'events';
import { AddWatchMode, EventType, NoNodeError, UnimplementedError, WatcherType, ZooKeeper, isRetriable } from '../../src';
import type { Stat, WatchedEvent, Watcher } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { RecipeArgumentError, RecipeClosedError, SessionLostError } from '../util/errors';
import { ClientSource, HandleSource, isDead } from './support/client-source';
import { checkRecipePath, joinPath, parentPath } from './support/recipe-paths';

/** One cached node. */
export interface ChildData {
  /** The node's full path. */
  path: string;
  /** null when the node has no data, or when the cache was made with cacheData: false. */
  data: Buffer | null;
  /** The node's Stat when it was read. */
  stat: Stat;
}

/** How the cache learns of changes. */
export type CacheWatchMode = 'auto' | 'persistent' | 'one-shot';

/** Options of a {@link TreeCache}. */
export interface TreeCacheOptions {
  /** Deepest level mirrored below `path` (0: the node alone; default: everything). */
  maxDepth?: number;
  /** Keep node data (default true); false keeps stats only. */
  cacheData?: boolean;
  /** 'auto' (default): persistent watches when the server has them, else one-shot; or force one. */
  watchMode?: CacheWatchMode;
}

/** Every event as one type, for 'event' listeners. */
export type TreeCacheEvent =
  | {
      /** A node appeared, changed or went away. */
      type: 'added' | 'updated' | 'removed';
      /** The node (for 'removed': as it was last seen). */
      data: ChildData;
    }
  | {
      /** The initial load finished. */
      type: 'initialized';
    }
  | {
      /** The connection state changed. */
      type: 'state';
      /** The new state. */
      state: ConnectionState;
    };

/**
 * TreeCache: a local mirror of the subtree at `path` (to `maxDepth`),
 * kept current, with events for the initial load and every change
 * (Curator's TreeCache/CuratorCache semantics). NodeCache (node-cache.ts)
 * is the one-node case.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { TreeCache } from 'zookeeper-ts/recipes';
 *
 * const connect = '127.0.0.1:2181';
 * // A factory (rather than one handle) lets the cache carry on in a new session after expiry.
 * const cache = new TreeCache(() => new ZooKeeper(connect), '/app/services');
 * cache.on('added', (n) => console.log('+', n.path));
 * cache.on('updated', (n) => console.log('~', n.path, n.data?.toString()));
 * cache.on('removed', (n) => console.log('-', n.path));
 * await cache.start();                      // resolves after the initial load ('initialized')
 * console.log(cache.getChildren('/app/services'));
 * await cache.close();
 * ```
 *
 * How it stays current: one persistent recursive watch on `path` (servers
 * 3.6+; a persistent non-recursive one for maxDepth 0) and a re-read of
 * each node an event names. On a server without persistent watches (the
 * addWatch call fails with Unimplemented, as on 3.5) it falls back to
 * one-shot data and child watches on every node, set again as they fire.
 * Reads for events run one at a time in event order, so the mirror never
 * goes back in time.
 *
 * SUSPENDED: the mirror may be stale ('state' SUSPENDED is emitted); it is
 * read again in full on RECONNECTED (persistent watches are not caught up by
 * the server after a disconnect) and the differences are emitted as events.
 * LOST: 'state' LOST is emitted; with a handle factory the cache takes a new
 * handle, watches again and resyncs (differences emitted, then
 * 'state' RECONNECTED); with a single handle the mirror stops updating and
 * keeps its last contents.
 *
 * Events: 'added' / 'updated' / 'removed' (ChildData), 'initialized' (after
 * the first load), 'state' (ConnectionState), 'event' (TreeCacheEvent, all
 * of the above), 'error' (an unexpected error while refreshing; only
 * emitted when listened to).
 */
export class TreeCache extends EventEmitter {
  /** The root of the cached subtree. */
  readonly path: string;
  private readonly maxDepth: number;
  private readonly cacheData: boolean;
  private readonly watchMode: CacheWatchMode;
  private readonly source: HandleSource;
  private zk: ZooKeeper | null = null;
  private tracker: ConnectionStateTracker | null = null;
  private readonly nodes = new Map<string, ChildData>();
  private readonly childIndex = new Map<string, Set<string>>();
  private persistent = false;
  private status: 'latent' | 'started' | 'closed' = 'latent';
  private initialized = false;
  private chain: Promise<void> = Promise.resolve();
  private startWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private readonly watcher: Watcher = (e) => this.onWatch(e);
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  /** A cache of the tree at `path`; `source` is a handle or a factory of handles (see client-source.ts). */
  constructor(source: ClientSource, path: string, options: TreeCacheOptions = {}) {
    super();
    this.path = checkRecipePath(path, 'cache path');
    this.source = new HandleSource(source);
    const maxDepth = options.maxDepth ?? Infinity;
    if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 0))) {
      throw new RecipeArgumentError(`maxDepth must be an integer >= 0 (got ${String(maxDepth)})`);
    }
    this.maxDepth = maxDepth;
    this.cacheData = options.cacheData ?? true;
    this.watchMode = options.watchMode ?? 'auto';
    if (!['auto', 'persistent', 'one-shot'].includes(this.watchMode)) {
      throw new RecipeArgumentError(`watchMode must be 'auto', 'persistent' or 'one-shot' (got ${String(this.watchMode)})`);
    }
  }

  /** Which watches keep the cache current: 'persistent' or 'one-shot' (null before start). */
  get mode(): 'persistent' | 'one-shot' | null {
    return this.status === 'latent' ? null : this.persistent ? 'persistent' : 'one-shot';
  }

  /** True once the first load is done. */
  get isInitialized(): boolean {
    return this.initialized;
  }

  /** Starts watching and loads the tree; resolves after 'initialized'. */
  async start(): Promise<void> {
    if (this.status !== 'latent') throw new RecipeClosedError(`cache of ${this.path} was already started`);
    this.status = 'started';
    const done = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    const zk = await this.source.get();
    if (isDead(zk)) {
      this.status = 'closed';
      throw new RecipeClosedError(`cache of ${this.path}: the ZooKeeper handle is closed or its session expired`);
    }
    this.attach(zk);
    this.enqueue(async () => {
      await this.install();
      await this.resync();
    });
    return done;
  }

  /** The cached node at `path`, if any. */
  get(path: string): ChildData | undefined {
    return this.nodes.get(path);
  }

  /** The cached children names of `path` (sorted), undefined when `path` is not cached. */
  getChildren(path: string): string[] | undefined {
    if (!this.nodes.has(path)) return undefined;
    return [...(this.childIndex.get(path) ?? [])].sort();
  }

  /** A copy of every cached node by path. */
  snapshot(): Map<string, ChildData> {
    return new Map(this.nodes);
  }

  /** Number of cached nodes. */
  get size(): number {
    return this.nodes.size;
  }

  /** Stops watching; the cache keeps its last contents but no longer changes. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    const wasStarted = this.status === 'started';
    this.status = 'closed';
    this.tracker?.off('state', this.onState);
    this.startWaiter?.reject(new RecipeClosedError(`cache of ${this.path} closed before it was initialized`));
    this.startWaiter = null;
    const zk = this.zk;
    if (!wasStarted || zk === null || isDead(zk)) return;
    // Drop our watches: server-side for the persistent one, client-side for one-shot ones.
    if (this.persistent) {
      const type = this.maxDepth === 0 ? WatcherType.Persistent : WatcherType.PersistentRecursive;
      await zk.removeWatches(this.path, this.watcher, type).catch(() => undefined);
    } else {
      for (const p of [this.path, ...this.nodes.keys()]) await zk.removeWatches(p, this.watcher, WatcherType.Any, true).catch(() => undefined);
    }
  }

  // ---- internals ----------------------------------------------------------

  private attach(zk: ZooKeeper): void {
    this.tracker?.off('state', this.onState);
    this.zk = zk;
    this.tracker = ConnectionStateTracker.for(zk);
    this.tracker.on('state', this.onState);
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.status !== 'started') return;
      try {
        await task();
      } catch (err) {
        this.failed(err);
      }
    });
  }

  /** A refresh failed: connection trouble is repaired by the resync on RECONNECTED; anything else is reported. */
  private failed(err: unknown): void {
    if (isRetriable(err)) return;
    const zk = this.zk;
    if (zk !== null && isDead(zk)) {
      if (!this.source.renewable) this.startWaiter?.reject(new SessionLostError(`cache of ${this.path}: the session ended`, { cause: err }));
      return; // LOST handling renews (or stops)
    }
    if (this.startWaiter !== null && !this.initialized) {
      this.startWaiter.reject(err);
      this.startWaiter = null;
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private stateChanged(s: ConnectionState): void {
    if (this.status !== 'started') return;
    if (s === ConnectionState.CONNECTED) return; // a fresh handle's first connect: the renewal below resyncs
    this.publish({ type: 'state', state: s });
    if (s === ConnectionState.RECONNECTED) {
      this.enqueue(() => this.resync());
    } else if (s === ConnectionState.LOST && this.zk !== null && isDead(this.zk)) {
      if (this.source.renewable) this.enqueue(() => this.renew());
      else if (!this.initialized) this.startWaiter?.reject(new SessionLostError(`cache of ${this.path}: the session ended before the first load`));
    }
  }

  /** A new session from the factory: watch again and resync. */
  private async renew(): Promise<void> {
    for (let attempt = 0; this.status === 'started'; attempt++) {
      try {
        const zk = await this.source.renew();
        if (zk === null) return;
        await zk.connected();
        if (this.status !== 'started') return;
        this.attach(zk);
        await this.install();
        await this.resync();
        this.publish({ type: 'state', state: ConnectionState.RECONNECTED });
        return;
      } catch (err) {
        if (this.listenerCount('error') > 0) this.emit('error', err);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Sets the persistent watch, or settles for one-shot watches. */
  private async install(): Promise<void> {
    const zk = this.zk!;
    this.persistent = false;
    if (this.watchMode === 'one-shot') return;
    try {
      await zk.addWatch(this.path, this.watcher, this.maxDepth === 0 ? AddWatchMode.PERSISTENT : AddWatchMode.PERSISTENT_RECURSIVE);
      this.persistent = true;
    } catch (err) {
      if (err instanceof UnimplementedError && this.watchMode === 'auto') return; // a 3.5 server: one-shot watches
      throw err;
    }
  }

  private onWatch(e: WatchedEvent): void {
    if (e.type === EventType.None || e.path === null || this.status !== 'started') return;
    const path = e.path;
    const depth = this.depthOf(path);
    if (depth < 0 || depth > this.maxDepth) return;
    this.enqueue(() => this.apply(e.type, path));
  }

  private async apply(type: EventType, path: string): Promise<void> {
    const zk = this.zk!;
    switch (type) {
      case EventType.NodeDeleted:
        this.removeSubtree(path);
        if (!this.persistent && path === this.path) await this.watchRootCreation();
        return;
      case EventType.NodeCreated:
        if (!this.persistent && path === this.path) return this.resync();
        return this.refreshNode(path);
      case EventType.NodeDataChanged:
        return this.refreshNode(path);
      case EventType.NodeChildrenChanged: {
        if (this.persistent || this.depthOf(path) >= this.maxDepth) return;
        let children: string[];
        try {
          children = await zk.getChildren(path, this.watcher);
        } catch (err) {
          if (err instanceof NoNodeError) return this.removeSubtree(path);
          throw err;
        }
        const known = this.childIndex.get(path) ?? new Set<string>();
        for (const gone of [...known].filter((c) => !children.includes(c))) this.removeSubtree(joinPath(path, gone));
        const fresh = new Map<string, ChildData>();
        await Promise.all(children.filter((c) => !known.has(c)).map((c) => this.visit(joinPath(path, c), this.depthOf(path) + 1, fresh)));
        for (const p of sortedByDepth([...fresh.keys()])) this.upsert(fresh.get(p)!);
        return;
      }
      default:
        return;
    }
  }

  /** Reads one node again (and, one-shot, watches its data again). */
  private async refreshNode(path: string): Promise<void> {
    const zk = this.zk!;
    try {
      const { data, stat } = await zk.getData(path, this.persistent ? undefined : this.watcher);
      if (!this.nodes.has(parentPath(path)) && path !== this.path) return; // its parent's event will bring it
      this.upsert({ path, data: this.cacheData ? data : null, stat });
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.removeSubtree(path);
      if (!this.persistent && path === this.path) await this.watchRootCreation();
    }
  }

  private async watchRootCreation(): Promise<void> {
    const stat = await this.zk!.exists(this.path, this.watcher);
    if (stat !== null) await this.resync(); // created meanwhile
  }

  /** Reads the whole tree and emits the differences from the mirror. */
  private async resync(): Promise<void> {
    const fresh = new Map<string, ChildData>();
    await this.visit(this.path, 0, fresh);
    if (!fresh.has(this.path) && !this.persistent) await this.watchRootCreation();
    const removed = [...this.nodes.keys()].filter((p) => !fresh.has(p));
    for (const p of sortedByDepth(removed).reverse()) this.removeOne(p);
    for (const p of sortedByDepth([...fresh.keys()])) this.upsert(fresh.get(p)!);
    if (!this.initialized) {
      this.initialized = true;
      this.publish({ type: 'initialized' });
      this.startWaiter?.resolve();
      this.startWaiter = null;
    }
  }

  /** Loads `path` and (to maxDepth) its subtree into `out`. */
  private async visit(path: string, depth: number, out: Map<string, ChildData>): Promise<void> {
    const zk = this.zk!;
    const watch = this.persistent ? undefined : this.watcher;
    let got;
    try {
      got = await zk.getData(path, watch);
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    out.set(path, { path, data: this.cacheData ? got.data : null, stat: got.stat });
    if (depth >= this.maxDepth) return;
    let children: string[];
    try {
      children = await zk.getChildren(path, watch);
    } catch (err) {
      if (err instanceof NoNodeError) {
        out.delete(path);
        return;
      }
      throw err;
    }
    await Promise.all(children.map((c) => this.visit(joinPath(path, c), depth + 1, out)));
  }

  private upsert(node: ChildData): void {
    const old = this.nodes.get(node.path);
    if (old !== undefined) {
      // Never go back in time: a read older than what we hold is dropped.
      if (node.stat.mzxid < old.stat.mzxid && node.stat.czxid === old.stat.czxid) return;
      this.nodes.set(node.path, node);
      if (node.stat.mzxid !== old.stat.mzxid || node.stat.czxid !== old.stat.czxid) this.publish({ type: 'updated', data: node });
      return;
    }
    this.nodes.set(node.path, node);
    if (node.path !== this.path) {
      const parent = parentPath(node.path);
      let set = this.childIndex.get(parent);
      if (set === undefined) this.childIndex.set(parent, (set = new Set()));
      set.add(node.path.slice(node.path.lastIndexOf('/') + 1));
    }
    this.publish({ type: 'added', data: node });
  }

  private removeSubtree(path: string): void {
    const prefix = path === '/' ? '/' : path + '/';
    const doomed = [...this.nodes.keys()].filter((p) => p === path || p.startsWith(prefix));
    for (const p of sortedByDepth(doomed).reverse()) this.removeOne(p);
  }

  private removeOne(path: string): void {
    const node = this.nodes.get(path);
    if (node === undefined) return;
    this.nodes.delete(path);
    this.childIndex.delete(path);
    if (path !== this.path) this.childIndex.get(parentPath(path))?.delete(path.slice(path.lastIndexOf('/') + 1));
    this.publish({ type: 'removed', data: node });
  }

  /** Depth of `path` below the cache root (-1 when outside it). */
  private depthOf(path: string): number {
    if (path === this.path) return 0;
    const prefix = this.path === '/' ? '/' : this.path + '/';
    if (!path.startsWith(prefix)) return -1;
    return path.slice(prefix.length).split('/').length;
  }

  private publish(e: TreeCacheEvent): void {
    if (e.type === 'initialized') this.emit('initialized');
    else if (e.type === 'state') this.emit('state', e.state);
    else this.emit(e.type, e.data);
    this.emit('event', e);
  }
}

function sortedByDepth(paths: string[]): string[] {
  return paths.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
}
