/**
 * Watch bookkeeping for one kind of watch (the tree keeps one manager for data
 * watches and one for child watches, as Apache's DataTree does). Follows
 * Apache's WatchManager: one-shot watches are removed when they fire,
 * persistent ones stay, recursive ones also match every descendant but never
 * receive NodeChildrenChanged, and a watcher gets one event per trigger even
 * if it watches several matching paths.
 *
 * Every trigger carries the ACL of the node it is about (the parent's for
 * NodeChildrenChanged), read at trigger time: a watcher delivers the event
 * only if its session may READ that node (CVE-2024-23944, Apache's
 * ServerCnxn.process(event, acl)). A one-shot watch is consumed either way,
 * as in Apache: a suppressed event does not leave the watch registered.
 */
import { EventType, KeeperState } from '../../proto/constants';
import type { ACL } from '../../proto/generated/data';

/** An event as the server sends it to a watcher (a WatcherEvent on the wire). */
export interface WatchedEvent {
  /** The EventType. */
  type: number;
  /** The KeeperState (SyncConnected for node events). */
  state: number;
  /** The node the event is about (server-side path). */
  path: string;
}

/** Whoever receives events: a client connection, or a test double. */
export interface Watcher {
  /** `acl` is the watched node's ACL at trigger time (absent: nothing to check, e.g. events replayed by setWatches). */
  process(event: WatchedEvent, acl?: readonly ACL[]): void;
}

export const WatcherMode = {
  STANDARD: 0,
  PERSISTENT: 1,
  PERSISTENT_RECURSIVE: 2,
} as const;
export type WatcherMode = (typeof WatcherMode)[keyof typeof WatcherMode];

/** The ancestors of a path, nearest first, ending at "/". */
function* parentsOf(path: string): Generator<string> {
  let p = path;
  while (p !== '/') {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    yield p;
  }
}

const NO_WATCHERS: ReadonlySet<Watcher> = new Set<Watcher>();

/**
 * What the table holds for a path: the watcher itself when it is the only
 * one and its watch is a one-shot (the usual case: a getData or exists
 * watch), else watcher -> mode. A Map per watched path would cost about 150
 * bytes more per watch, more than Apache's whole per-watch footprint.
 */
type PathWatchers = Watcher | Map<Watcher, WatcherMode>;

export class WatchManager {
  private table = new Map<string, PathWatchers>();
  private byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  /**
   * Adds a watch. A watcher has ONE mode per path, and the latest registration
   * sets it, as in Apache 3.8 (WatcherModeManager.setWatcherMode): a getData
   * watch on a path with a persistent watch turns it into a one-shot watch.
   * (ZOOKEEPER-4466 made 3.9 keep both; we follow the 3.8 line we are tested
   * against.) Returns true when the path is new for this watcher.
   */
  addWatch(path: string, watcher: Watcher, mode: WatcherMode = WatcherMode.STANDARD): boolean {
    const cur = this.table.get(path);
    let prev: WatcherMode | undefined;
    if (cur === undefined) {
      this.table.set(path, mode === WatcherMode.STANDARD ? watcher : new Map([[watcher, mode]]));
    } else if (cur instanceof Map) {
      prev = cur.get(watcher);
      cur.set(watcher, mode);
    } else if (cur === watcher) {
      prev = WatcherMode.STANDARD;
      if (mode !== WatcherMode.STANDARD) this.table.set(path, new Map([[watcher, mode]]));
    } else {
      this.table.set(path, new Map<Watcher, WatcherMode>([[cur, WatcherMode.STANDARD], [watcher, mode]]));
    }
    if (prev === WatcherMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    if (mode === WatcherMode.PERSISTENT_RECURSIVE) this.recursiveCount++;
    let paths = this.byWatcher.get(watcher);
    if (!paths) this.byWatcher.set(watcher, (paths = new Set()));
    paths.add(path);
    return prev === undefined;
  }

  /**
   * Fires `type` at `path`: exact-path watches, plus recursive watches on any
   * ancestor. Watchers in `suppress` are skipped (used so a delete notifies a
   * watcher once across the data and child managers). `acl` is the node's ACL,
   * which each watcher checks before delivering. Returns who matched.
   */
  triggerWatch(path: string, type: number, acl: readonly ACL[], suppress?: ReadonlySet<Watcher>): ReadonlySet<Watcher> {
    // Most writes fire nothing: skip the allocations below when no watch can match.
    if (this.recursiveCount === 0 && !this.table.has(path)) return NO_WATCHERS;
    const matched = new Set<Watcher>();
    const visit = (localPath: string, atParent: boolean): void => {
      const watchers = this.table.get(localPath);
      if (!watchers) return;
      if (!(watchers instanceof Map)) {
        // A lone one-shot watch: fires (and goes) for the path itself only.
        if (!atParent) {
          matched.add(watchers);
          this.table.delete(localPath);
          this.byWatcher.get(watchers)?.delete(localPath);
        }
        return;
      }
      for (const [watcher, mode] of watchers) {
        if (mode === WatcherMode.PERSISTENT_RECURSIVE) {
          if (type !== EventType.NodeChildrenChanged) matched.add(watcher);
        } else if (!atParent) {
          matched.add(watcher);
          if (mode === WatcherMode.STANDARD) {
            watchers.delete(watcher);
            this.byWatcher.get(watcher)?.delete(localPath);
          }
        }
      }
      if (watchers.size === 0) this.table.delete(localPath);
    };
    visit(path, false);
    if (this.recursiveCount > 0) for (const p of parentsOf(path)) visit(p, true);
    const event: WatchedEvent = { type, state: KeeperState.SyncConnected, path };
    for (const w of matched) {
      if (suppress?.has(w)) continue;
      w.process(event, acl);
    }
    return matched;
  }

  /** The mode of `watcher`'s watch on `path`, if it has one. */
  private modeOf(path: string, watcher: Watcher): WatcherMode | undefined {
    const cur = this.table.get(path);
    if (cur === undefined) return undefined;
    if (cur instanceof Map) return cur.get(watcher);
    return cur === watcher ? WatcherMode.STANDARD : undefined;
  }

  /** Drops `watcher`'s entry for `path` from the table (the byWatcher side is the caller's). */
  private dropFromTable(path: string, watcher: Watcher): void {
    const cur = this.table.get(path);
    if (cur instanceof Map) {
      cur.delete(watcher);
      if (cur.size === 0) this.table.delete(path);
    } else if (cur === watcher) {
      this.table.delete(path);
    }
  }

  /** Removes a watcher's watch on a path; with `mode`, only a watch of that mode. Returns whether one was removed. */
  removeWatcher(path: string, watcher: Watcher, mode?: WatcherMode): boolean {
    const current = this.modeOf(path, watcher);
    if (current === undefined) return false;
    if (mode !== undefined && current !== mode) return false;
    if (current === WatcherMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    this.dropFromTable(path, watcher);
    this.byWatcher.get(watcher)?.delete(path);
    return true;
  }

  containsWatcher(path: string, watcher: Watcher, mode?: WatcherMode): boolean {
    const current = this.modeOf(path, watcher);
    if (current === undefined) return false;
    return mode === undefined || current === mode;
  }

  /** Drops everything a watcher registered (its connection closed). */
  removeAll(watcher: Watcher): void {
    const paths = this.byWatcher.get(watcher);
    if (!paths) return;
    for (const p of paths) {
      if (this.modeOf(p, watcher) === WatcherMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
      this.dropFromTable(p, watcher);
    }
    this.byWatcher.delete(watcher);
  }

  /** Number of (path, watcher) pairs. */
  get size(): number {
    let n = 0;
    for (const w of this.table.values()) n += w instanceof Map ? w.size : 1;
    return n;
  }

  /** path -> watchers, for the wchp four-letter word. */
  byPath(): Map<string, Watcher[]> {
    return new Map([...this.table].map(([p, w]) => [p, w instanceof Map ? [...w.keys()] : [w]]));
  }

  /** watcher -> paths, for the wchc four-letter word. */
  byWatcherMap(): Map<Watcher, string[]> {
    return new Map([...this.byWatcher].filter(([, p]) => p.size > 0).map(([w, p]) => [w, [...p]]));
  }

  get pathCount(): number {
    return this.table.size;
  }
}
