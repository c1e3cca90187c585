/**
 * Shared pieces of the integration suite: clients that are closed after
 * each test file, a unique path prefix per test, and recorders that let a
 * test wait for a watch event or a connection state with a deadline.
 */
import { randomBytes } from 'crypto';
import { EventType, KeeperError, KeeperState, ZooKeeper } from '../../src';
import type { TargetKind } from '../harness';
import type { WatchedEvent, ZooKeeperOptions } from '../../src';

export { EventType, KeeperState };

/** Opens a client and waits for SyncConnected; the client is closed by closeAll(). */
export class Clients {
  private readonly open = new Set<ZooKeeper>();

  /** A handle that is NOT yet awaited: for tests of connected() itself. */
  create(connectString: string, options: ZooKeeperOptions = {}): ZooKeeper {
    const zk = new ZooKeeper(connectString, { sessionTimeout: 10_000, ...options });
    // The suite checks errors where it cares; unobserved ones must not crash jest.
    zk.on('error', () => undefined);
    this.open.add(zk);
    return zk;
  }

  async connect(connectString: string, options: ZooKeeperOptions = {}): Promise<ZooKeeper> {
    const zk = this.create(connectString, options);
    await zk.connected();
    return zk;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map((zk) => zk.close().catch(() => undefined)));
  }
}

/** A fresh path under the root for one test, e.g. '/t-3fa9c1-create'. */
export function uniquePath(label = 't'): string {
  return `/${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(4).toString('hex')}`;
}

/** Records the events given to a watcher, so a test can await them. */
export class EventLog {
  readonly events: WatchedEvent[] = [];
  private waiters: Array<{ pred: (e: WatchedEvent) => boolean; resolve: (e: WatchedEvent) => void }> = [];

  /** Pass this as the watcher. */
  readonly watcher = (e: WatchedEvent): void => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  };

  /** Events other than connection-state ones (type None). */
  get nodeEvents(): WatchedEvent[] {
    return this.events.filter((e) => e.type !== EventType.None);
  }

  /** Resolves with the first recorded-or-future event matching `pred`, or rejects after `timeoutMs`. */
  next(pred: (e: WatchedEvent) => boolean = () => true, timeoutMs = 5000): Promise<WatchedEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: WatchedEvent) => { clearTimeout(t); resolve(e); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits for an event of `type` on `path`. */
  nextOf(type: EventType, path: string, timeoutMs = 5000): Promise<WatchedEvent> {
    return this.next((e) => e.type === type && e.path === path, timeoutMs);
  }
}

/** Records a handle's states so a test can await one: the testing kit's (src/testing/client-states.ts). */
export { StateLog } from '../../src/testing/client-states';

/** Awaits `p` and returns the KeeperError it rejects with (fails the test if it resolves or throws something else). */
export async function keeperError(p: Promise<unknown>): Promise<KeeperError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KeeperError) return err;
    throw new Error(`expected a KeeperError, got ${String(err)}`);
  }
  throw new Error('expected the call to fail with a KeeperError, but it succeeded');
}

/** Calls `fn` and returns the KeeperError it throws synchronously or rejects with. */
export async function keeperErrorOf(fn: () => Promise<unknown>): Promise<KeeperError> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (err) {
    if (err instanceof KeeperError) return err;
    throw err;
  }
  return keeperError(p);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Budget for a beforeAll that starts a cluster (a JVM, or a first transpile of our server). */
export const START_TIMEOUT = 90_000;

/**
 * A bigint as hex text, for assertions: jest workers cannot serialize
 * bigints in failure messages (the worker dies instead of reporting).
 */
export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * describe.each over `kinds`, or, when no selected target has the needed
 * feature (e.g. ZK_TARGETS=ours for ensemble tests), one skipped block that
 * says so: reported as skipped, never as passed.
 */
export function describeEachTarget(kinds: TargetKind[], title: string, fn: (kind: TargetKind) => void): void {
  if (kinds.length === 0) {
    describe.skip(title.replace('%s', '(no selected target supports this)'), () => {
      test('needs a target with this feature; see targets.ts and ZK_TARGETS', () => undefined);
    });
    return;
  }
  describe.each(kinds)(title, fn);
}
