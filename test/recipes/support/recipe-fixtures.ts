/**
 * Shared pieces of the recipe tests (both recipe engineers use them):
 * targets to iterate, handles that are closed after the file, a unique
 * base path per test, condition waits, and a seeded random source.
 */
import { randomBytes } from 'crypto';
import { KeeperState, NoNodeError, ZooKeeper, ZooKeeperOptions } from '../../../src';
import { targets, targetsWith, TcpProxy } from '../../harness';
import type { Feature, TargetKind } from '../../harness';

export { targets, targetsWith };
export type { Feature, TargetKind };

/** Budget for a beforeAll that starts a cluster. */
export const START_TIMEOUT = 120_000;

/** Opens handles and closes every one of them in closeAll(). */
export class Handles {
  private readonly open = new Set<ZooKeeper>();

  /** A connected handle (sessionTimeout 10 s unless given). */
  async connect(connectString: string, options: ZooKeeperOptions = {}): Promise<ZooKeeper> {
    const zk = this.create(connectString, options);
    await zk.connected();
    return zk;
  }

  /** A handle not yet awaited. */
  create(connectString: string, options: ZooKeeperOptions = {}): ZooKeeper {
    const zk = new ZooKeeper(connectString, { sessionTimeout: 10_000, ...options });
    // Unobserved 'error' events must not crash jest; tests check what they care about.
    zk.on('error', () => undefined);
    zk.on('watcherError', () => undefined);
    this.open.add(zk);
    return zk;
  }

  private readonly cleanups: (() => Promise<void>)[] = [];

  /** Runs `fn` in closeAll(), after the handles are closed. */
  onClose(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  async closeAll(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map((zk) => zk.close().catch(() => undefined)));
    for (const fn of this.cleanups.splice(0)) await fn().catch(() => undefined);
  }
}

/** A fresh path under the root for one test, e.g. '/r-3fa9c1-mutex'. */
export function uniquePath(label = 'r'): string {
  return `/${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every `everyMs` until it is true; rejects with `what` after `timeoutMs`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The children of a recipe's parent, [] when the parent is gone: recipes make their
 * parents CONTAINER nodes, as Curator does, and the harness servers reap an emptied
 * container within a second (znode.container.checkIntervalMs), so "no children" and
 * "no parent" are the same released state.
 */
export async function childrenOrNone(zk: ZooKeeper, path: string): Promise<string[]> {
  try {
    return await zk.getChildren(path);
  } catch (e) {
    if (e instanceof NoNodeError) return [];
    throw e;
  }
}

/** True once a handle can never serve again (its session expired or failed authentication, or it was closed). */
export const isDead = (zk: ZooKeeper): boolean =>
  zk.state === KeeperState.Expired || zk.state === KeeperState.Closed || zk.state === KeeperState.AuthFailed;

/**
 * A handle cut off by a kill -9 (a slow restart of a JVM on a busy machine can
 * outlast its session) either reconnects or expires, locally, within its session
 * timeout. Waits for which, so no later test meets it half-way, and hands back
 * the handle when it reconnected, else the one `renew` makes.
 */
export async function afterOutage(zk: ZooKeeper, renew: () => Promise<ZooKeeper>, timeoutMs = 30_000): Promise<ZooKeeper> {
  await waitUntil(() => zk.state === KeeperState.SyncConnected || isDead(zk), 'the handle reconnected or expired', timeoutMs);
  return isDead(zk) ? renew() : zk;
}

export { seededRandom } from '../../harness/seeded-random';

/** The seed of a randomized test: RECIPES_SEED when set, else a fresh one (printed by the test on failure). */
export function testSeed(): number {
  const env = process.env.RECIPES_SEED;
  return env ? Number(env) : (Date.now() ^ (process.pid << 8)) >>> 0;
}

/** Rejects if `p` is still pending after `ms` (the message names `what`). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * A connected handle whose every connection goes through its own TCP
 * proxies (one per server), so `drop()` cuts this handle's connection only
 * (it reconnects with the same session). Proxies close with `handles`... or
 * call `close()`.
 */
export async function proxied(
  handles: Handles,
  cluster: { servers: { clientPort: number }[] },
  options: ZooKeeperOptions = {},
): Promise<{ zk: ZooKeeper; drop: () => void; proxies: TcpProxy[]; close: () => Promise<void> }> {
  const proxies = await Promise.all(cluster.servers.map((s) => TcpProxy.start(s.clientPort)));
  handles.onClose(() => Promise.all(proxies.map((p) => p.close())).then(() => undefined));
  const zk = await handles.connect(proxies.map((p) => p.hostPort).join(','), options);
  return {
    zk,
    proxies,
    drop: () => proxies.forEach((p) => p.cut()),
    close: async () => {
      await zk.close().catch(() => undefined);
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
