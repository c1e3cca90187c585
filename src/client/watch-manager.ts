/**
 * The client-side watch registry (the Java client's ZKWatchManager).
 *
 * The server keeps at most one watch of each kind per path and session; the
 * client keeps the functions to call. Registration happens when the reply
 * arrives, in server order (before any later event is looked up):
 *  - exists(path, w): a data watch when the node exists, an exist watch when
 *    it does not (NoNode);
 *  - getData(path, w): a data watch, only on success;
 *  - getChildren(path, w): a child watch, only on success;
 *  - addWatch(path, w, mode): a persistent or persistent-recursive watch.
 * One function is kept once per path and kind (a Set), so registering the
 * same watcher twice yields one call per event; different functions on one
 * path are all called. One-shot watches are removed when they fire;
 * persistent ones stay until removeWatches().
 *
 * Keys are server paths (chroot included), which is what SetWatches must
 * resend after a reconnect and what events carry; the handle maps paths for
 * its users. Which watchers an event reaches:
 *  - NodeCreated, NodeDataChanged: data + exist watches of the path;
 *  - NodeDeleted: data + exist + child watches of the path;
 *  - NodeChildrenChanged: child watches of the path;
 *  - and, for each, the persistent watches of the path, plus (for all types
 *    but NodeChildrenChanged) the persistent-recursive watches of the path
 *    and of every ancestor.
 *  - A state change (type None) reaches every registered watcher and the
 *    default watcher, as in Java; one-shot watches survive it (the handle
 *    re-registers them with SetWatches on reconnect).
 *
 * Event ordering guarantees are described in event-queue.ts.
 */
import { EventType, KeeperState, WatcherType } from '../proto/constants';

/** What a watcher receives. `path` is null for connection-state events. */
export interface WatchedEvent {
  /** What happened: a node event, or None for a session state change. */
  type: EventType;
  /** The session state when the event was delivered. */
  state: KeeperState;
  /** The node the event is about, relative to the chroot; null for state changes. */
  path: string | null;
}

/** A watch callback; a returned promise is awaited before the next event. */
export type Watcher = (event: WatchedEvent) => void | Promise<void>;

/** The five registries (WatchKind.Exist is an exists() on a missing node). */
export const WatchKind = {
  Data: 1,
  Exist: 2,
  Child: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;
export type WatchKind = (typeof WatchKind)[keyof typeof WatchKind];

type Table = Map<string, Set<Watcher>>;

/** A removal's outcome: which functions to tell, with which event type. */
export interface RemovedWatchers {
  type: EventType;
  watchers: Watcher[];
}

export class WatchManager {
  readonly data: Table = new Map();
  readonly exist: Table = new Map();
  readonly child: Table = new Map();
  readonly persistent: Table = new Map();
  readonly persistentRecursive: Table = new Map();

  private table(kind: WatchKind): Table {
    switch (kind) {
      case WatchKind.Data:
        return this.data;
      case WatchKind.Exist:
        return this.exist;
      case WatchKind.Child:
        return this.child;
      case WatchKind.Persistent:
        return this.persistent;
      default:
        return this.persistentRecursive;
    }
  }

  add(kind: WatchKind, serverPath: string, watcher: Watcher): void {
    const t = this.table(kind);
    let set = t.get(serverPath);
    if (set === undefined) t.set(serverPath, (set = new Set()));
    set.add(watcher);
  }

  /** True when anything is registered (so a reconnect must send SetWatches). */
  get isEmpty(): boolean {
    return this.data.size + this.exist.size + this.child.size + this.persistent.size + this.persistentRecursive.size === 0;
  }

  get hasPersistent(): boolean {
    return this.persistent.size + this.persistentRecursive.size > 0;
  }

  /** The watchers a server event reaches; one-shot ones are removed. */
  materialize(type: EventType, serverPath: string): Watcher[] {
    const out = new Set<Watcher>();
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take(this.data, serverPath, out);
        take(this.exist, serverPath, out);
        break;
      case EventType.NodeDeleted:
        take(this.data, serverPath, out);
        take(this.exist, serverPath, out);
        take(this.child, serverPath, out);
        break;
      case EventType.NodeChildrenChanged:
        take(this.child, serverPath, out);
        break;
      default:
        break;
    }
    copy(this.persistent.get(serverPath), out);
    if (type !== EventType.NodeChildrenChanged) {
      for (let p: string | null = serverPath; p !== null; p = parentPath(p)) {
        copy(this.persistentRecursive.get(p), out);
      }
    }
    return [...out];
  }

  /** Every registered watcher, once each (for state-change events). */
  all(): Watcher[] {
    const out = new Set<Watcher>();
    for (const t of [this.data, this.exist, this.child, this.persistent, this.persistentRecursive]) {
      for (const set of t.values()) copy(set, out);
    }
    return [...out];
  }

  clear(): void {
    this.data.clear();
    this.exist.clear();
    this.child.clear();
    this.persistent.clear();
    this.persistentRecursive.clear();
  }

  /** Whether a watcher (or any, when null) of this removal type is registered on the path. */
  contains(serverPath: string, watcher: Watcher | null, type: WatcherType): boolean {
    for (const t of this.tablesFor(type)) {
      const set = t.get(serverPath);
      if (set === undefined) continue;
      if (watcher === null ? set.size > 0 : set.has(watcher)) return true;
    }
    return false;
  }

  /**
   * Removes watchers of a removal type (WatcherType) from a path: the given
   * function, or all of them when `watcher` is null. Returns who must be
   * told, grouped by the event type they get (DataWatchRemoved for data and
   * exist watches, ChildWatchRemoved, PersistentWatchRemoved).
   */
  remove(serverPath: string, watcher: Watcher | null, type: WatcherType): RemovedWatchers[] {
    const out: RemovedWatchers[] = [];
    const push = (eventType: EventType, removed: Watcher[]) => {
      if (removed.length === 0) return;
      const existing = out.find((r) => r.type === eventType);
      if (existing) {
        for (const w of removed) if (!existing.watchers.includes(w)) existing.watchers.push(w);
      } else out.push({ type: eventType, watchers: removed });
    };
    const wantChildren = type === WatcherType.Children || type === WatcherType.Any;
    const wantData = type === WatcherType.Data || type === WatcherType.Any;
    const wantPersistent = type === WatcherType.Persistent || type === WatcherType.Any;
    const wantRecursive = type === WatcherType.PersistentRecursive || type === WatcherType.Any;
    if (wantChildren) push(EventType.ChildWatchRemoved, removeFrom(this.child, serverPath, watcher));
    if (wantData) {
      push(EventType.DataWatchRemoved, removeFrom(this.data, serverPath, watcher));
      push(EventType.DataWatchRemoved, removeFrom(this.exist, serverPath, watcher));
    }
    if (wantPersistent) push(EventType.PersistentWatchRemoved, removeFrom(this.persistent, serverPath, watcher));
    if (wantRecursive) push(EventType.PersistentWatchRemoved, removeFrom(this.persistentRecursive, serverPath, watcher));
    return out;
  }

  private tablesFor(type: WatcherType): Table[] {
    switch (type) {
      case WatcherType.Children:
        return [this.child];
      case WatcherType.Data:
        return [this.data, this.exist];
      case WatcherType.Persistent:
        return [this.persistent];
      case WatcherType.PersistentRecursive:
        return [this.persistentRecursive];
      default:
        return [this.child, this.data, this.exist, this.persistent, this.persistentRecursive];
    }
  }
}

function take(t: Table, path: string, out: Set<Watcher>): void {
  const set = t.get(path);
  if (set === undefined) return;
  t.delete(path);
  copy(set, out);
}

function copy(set: Set<Watcher> | undefined, out: Set<Watcher>): void {
  if (set !== undefined) for (const w of set) out.add(w);
}

function removeFrom(t: Table, path: string, watcher: Watcher | null): Watcher[] {
  const set = t.get(path);
  if (set === undefined) return [];
  if (watcher === null) {
    t.delete(path);
    return [...set];
  }
  if (!set.delete(watcher)) return [];
  if (set.size === 0) t.delete(path);
  return [watcher];
}

/** The parent of an absolute path, or null for '/'. */
function parentPath(p: string): string | null {
  if (p === '/') return null;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
