import { EventEmitter } from 'events';
import { ConnectionState } from '../state/connection-state';
import type { ClientSource } from './support/client-source';
import { CacheWatchMode, ChildData, TreeCache } from './tree-cache';

/** Options of a {@link NodeCache}. */
export interface NodeCacheOptions {
  /** Keep the data (default true). */
  cacheData?: boolean;
  /** 'auto' (default), 'persistent' or 'one-shot'. */
  watchMode?: CacheWatchMode;
}

/**
 * NodeCache: a local copy of one node's data and stat, kept current, with
 * a 'change' event whenever it is created, changed or deleted (Curator's
 * NodeCache). It is a TreeCache of depth 0: one persistent watch on the node
 * (servers 3.6+), or one-shot data/exists watches on older servers.
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { NodeCache } from 'zookeeper-ts/recipes';
 *
 * const zk = new ZooKeeper('127.0.0.1:2181');
 * const config = new NodeCache(zk, '/app/config');
 * config.on('change', (node) => console.log('config is now', node?.data?.toString() ?? '(deleted)'));
 * await config.start();                       // loaded: config.getCurrentData() is current
 * await config.close();
 * ```
 *
 * SUSPENDED: getCurrentData() may be stale; on RECONNECTED the node is read
 * again and 'change' fires if it moved while disconnected. LOST: with a
 * handle factory (`new NodeCache(() => new ZooKeeper(connect), path)`) the
 * cache re-reads the node in the new session; with a single handle it keeps
 * the last value and stops updating.
 *
 * Events: 'change' (ChildData | null), 'initialized', 'state' (ConnectionState), 'error'.
 */
export class NodeCache extends EventEmitter {
  private readonly tree: TreeCache;

  /** A cache of the node at `path`; `source` is a handle or a factory of handles. */
  constructor(
    source: ClientSource,
    /** The node cached. */
    readonly path: string,
    options: NodeCacheOptions = {},
  ) {
    super();
    this.tree = new TreeCache(source, path, { maxDepth: 0, cacheData: options.cacheData, watchMode: options.watchMode });
    const changed = (): void => {
      if (this.tree.isInitialized) this.emit('change', this.getCurrentData());
    };
    this.tree.on('added', changed);
    this.tree.on('updated', changed);
    this.tree.on('removed', changed);
    this.tree.on('initialized', () => this.emit('initialized'));
    this.tree.on('state', (s: ConnectionState) => this.emit('state', s));
    this.tree.on('error', (e: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  /** Loads the node and starts watching; resolves once loaded. */
  start(): Promise<void> {
    return this.tree.start();
  }

  /** The node's data and stat, or null when it does not exist. */
  getCurrentData(): ChildData | null {
    return this.tree.get(this.path) ?? null;
  }

  /** 'persistent' or 'one-shot' once started. */
  get mode(): 'persistent' | 'one-shot' | null {
    return this.tree.mode;
  }

  /** Stops watching. */
  close(): Promise<void> {
    return this.tree.close();
  }
}
