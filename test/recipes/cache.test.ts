/**
 * NodeCache and TreeCache on both targets, with persistent watches and with
 * the one-shot fallback. Invariant: after random changes, cut connections,
 * a session expiry (with a handle factory) and a server kill -9, the cache
 * converges to the server's tree, and its events replayed on an empty map
 * give the same tree (no event is missed or invented).
 */
import { Cluster, startTarget, TcpProxy } from '../harness';
import { expireSession } from '../harness/session-tools';
import { NoNodeError, UnimplementedError, ZooKeeper } from '../../src';
import { ChildData, NodeCache, TreeCache } from '../../recipes/cache';
import type { CacheWatchMode } from '../../recipes/cache';
import { ConnectionState } from '../../recipes/state/connection-state';
import { RecipeArgumentError, RecipeClosedError } from '../../recipes/util/errors';
import { afterOutage, Handles, START_TIMEOUT, seededRandom, sleep, targets, testSeed, uniquePath, waitUntil } from './support/recipe-fixtures';

/** The server's tree under `root` as path -> data text. */
async function readTree(zk: ZooKeeper, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (p: string): Promise<void> => {
    try {
      const { data } = await zk.getData(p);
      out.set(p, data?.toString() ?? '');
      const kids = await zk.getChildren(p);
      await Promise.all(kids.map((k) => visit(`${p}/${k}`)));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  };
  await visit(root);
  return out;
}

function cacheTree(cache: TreeCache): Map<string, string> {
  return new Map([...cache.snapshot()].map(([p, n]) => [p, n.data?.toString() ?? '']));
}

/** Replays a cache's events on a map. */
function eventMirror(cache: TreeCache): Map<string, string> {
  const m = new Map<string, string>();
  cache.on('added', (n: ChildData) => m.set(n.path, n.data?.toString() ?? ''));
  cache.on('updated', (n: ChildData) => m.set(n.path, n.data?.toString() ?? ''));
  cache.on('removed', (n: ChildData) => m.delete(n.path));
  return m;
}

const sorted = (m: Map<string, string>): [string, string][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe.each(targets())('caches on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zk = await handles.connect(cluster.connectString, { sessionTimeout: 8000 });
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  describe.each<CacheWatchMode>(['persistent', 'one-shot'])('with %s watches', (watchMode) => {
    test('node cache: missing, created, changed, deleted, created again', async () => {
      const path = uniquePath('node-cache');
      const cache = new NodeCache(zk, path, { watchMode });
      const seen: (string | null)[] = [];
      cache.on('change', (n: ChildData | null) => seen.push(n === null ? null : n.data?.toString() ?? ''));
      await cache.start();
      expect(cache.mode).toBe(watchMode);
      expect(cache.getCurrentData()).toBeNull();
      await zk.create(path, Buffer.from('v1'));
      await waitUntil(() => cache.getCurrentData()?.data?.toString() === 'v1', 'created');
      await zk.setData(path, Buffer.from('v2'));
      await waitUntil(() => cache.getCurrentData()?.data?.toString() === 'v2', 'changed');
      await zk.create(`${path}/child`, null); // a child is not a change of the node
      await zk.delete(`${path}/child`);
      await zk.delete(path);
      await waitUntil(() => cache.getCurrentData() === null, 'deleted');
      await zk.create(path, Buffer.from('v3'));
      await waitUntil(() => cache.getCurrentData()?.data?.toString() === 'v3', 'created again');
      expect(seen).toEqual(['v1', 'v2', null, 'v3']);
      await cache.close();
      await zk.setData(path, Buffer.from('after close'));
      await sleep(200);
      expect(cache.getCurrentData()?.data?.toString()).toBe('v3');
    });

    test('tree cache converges through random changes and cut connections; events tell the whole story', async () => {
      const seed = testSeed();
      const rnd = seededRandom(seed);
      const root = uniquePath('tree');
      await zk.create(root, Buffer.from('root'));
      await zk.create(`${root}/pre`, Buffer.from('there before start'));
      const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
      try {
        const h = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
        const cache = new TreeCache(h, root, { watchMode });
        const mirror = eventMirror(cache);
        const states: ConnectionState[] = [];
        cache.on('state', (s: ConnectionState) => states.push(s));
        let initialized = 0;
        cache.on('initialized', () => initialized++);
        await cache.start();
        expect(initialized).toBe(1);
        expect(cache.get(`${root}/pre`)?.data?.toString()).toBe('there before start');
        const nodes = [root, `${root}/pre`];
        for (let i = 0; i < 80; i++) {
          const r = rnd();
          const target = nodes[Math.floor(rnd() * nodes.length)];
          try {
            if (r < 0.45 && target.split('/').length < 6) {
              const p = `${target}/n${i}`;
              await zk.create(p, Buffer.from(`c${i}`));
              nodes.push(p);
            } else if (r < 0.8) {
              await zk.setData(target, Buffer.from(`s${i}`));
            } else if (target !== root) {
              const kids = await zk.getChildren(target);
              if (kids.length === 0) {
                await zk.delete(target);
                nodes.splice(nodes.indexOf(target), 1);
              }
            }
          } catch (err) {
            if (!(err instanceof NoNodeError)) throw err;
          }
          if (i % 15 === 7) proxy.cut();
          if (i % 10 === 0) await sleep(5);
        }
        const want = sorted(await readTree(zk, root));
        await waitUntil(() => JSON.stringify(sorted(cacheTree(cache))) === JSON.stringify(want), `cache converged (seed ${seed})`, 20_000);
        expect(sorted(mirror)).toEqual(want);
        expect(states).toContain(ConnectionState.SUSPENDED);
        expect(states).toContain(ConnectionState.RECONNECTED);
        expect(cache.getChildren(root)).toEqual([...new Set(want.map(([p]) => p).filter((p) => p.split('/').length === 3))].map((p) => p.split('/')[2]).sort());
        await cache.close();
      } finally {
        await proxy.close();
      }
    }, 60_000);

    test('tree cache with a handle factory carries on in a new session after expiry', async () => {
      const root = uniquePath('tree-expiry');
      await zk.create(root, Buffer.from('r'));
      await zk.create(`${root}/a`, Buffer.from('1'));
      const made: ZooKeeper[] = [];
      const cache = new TreeCache(() => {
        const h = handles.create(cluster.connectString, { sessionTimeout: 4000 });
        made.push(h);
        return h;
      }, root, { watchMode });
      const states: ConnectionState[] = [];
      cache.on('state', (s: ConnectionState) => states.push(s));
      const mirror = eventMirror(cache);
      await cache.start();
      expect(made).toHaveLength(1);
      const first = made[0];
      await expireSession(cluster.connectString, first.sessionId, first.sessionPassword);
      await zk.create(`${root}/b`, Buffer.from('2'));
      await zk.setData(`${root}/a`, Buffer.from('1b'));
      await waitUntil(() => cache.get(`${root}/b`) !== undefined && cache.get(`${root}/a`)?.data?.toString() === '1b', 'resynced in the new session', 20_000);
      expect(made).toHaveLength(2);
      expect(states.slice(-2)).toEqual([ConnectionState.LOST, ConnectionState.RECONNECTED]);
      await zk.delete(`${root}/b`);
      await waitUntil(() => cache.get(`${root}/b`) === undefined, 'watching in the new session');
      expect(sorted(mirror)).toEqual(sorted(await readTree(zk, root)));
      await cache.close();
    }, 60_000);
  });

  test('tree cache: maxDepth bounds the mirror; cacheData false keeps stats only', async () => {
    const root = uniquePath('depth');
    await zk.create(root, null);
    await zk.create(`${root}/a`, Buffer.from('A'));
    await zk.create(`${root}/a/deep`, Buffer.from('D'));
    const cache = new TreeCache(zk, root, { maxDepth: 1, cacheData: false });
    await cache.start();
    expect(cache.mode).toBe('persistent');
    await zk.create(`${root}/b`, null);
    await zk.create(`${root}/a/deeper`, null);
    await waitUntil(() => cache.get(`${root}/b`) !== undefined, 'b added');
    expect([...cache.snapshot().keys()].sort()).toEqual([root, `${root}/a`, `${root}/b`]);
    expect(cache.get(`${root}/a`)!.data).toBeNull();
    expect(cache.get(`${root}/a`)!.stat.numChildren).toBeGreaterThanOrEqual(1);
    await cache.close();
  });

  test('tree cache converges after the server is killed (-9) and restarted', async () => {
    const root = uniquePath('tree-kill');
    await zk.create(root, null);
    // A factory: should the restart outlast the session, the cache goes on in a new one.
    const cache = new TreeCache(() => handles.create(cluster.connectString, { sessionTimeout: 8000, connectTimeout: 30_000 }), root);
    await cache.start();
    await zk.create(`${root}/x`, Buffer.from('1'));
    await cluster.servers[0].kill();
    await cluster.servers[0].start();
    await cluster.waitHealthy(30_000);
    const writer = await handles.connect(cluster.connectString, { sessionTimeout: 8000 });
    await writer.create(`${root}/y`, Buffer.from('2'));
    await writer.setData(`${root}/x`, Buffer.from('1b'));
    const want = sorted(await readTree(writer, root));
    await waitUntil(() => JSON.stringify(sorted(cacheTree(cache))) === JSON.stringify(want), 'converged after restart', 30_000);
    await cache.close();
    // The shared handle was cut off too.
    zk = await afterOutage(zk, async () => writer);
  }, 120_000);

  test('auto mode falls back to one-shot watches when the server answers addWatch with Unimplemented (a 3.5 server)', async () => {
    const root = uniquePath('fallback');
    await zk.create(root, Buffer.from('r'));
    const old = await handles.connect(cluster.connectString);
    // Stand-in for a 3.5 server: this handle's addWatch fails as it would there.
    const spy = jest.spyOn(old, 'addWatch').mockRejectedValue(new UnimplementedError(undefined, root));
    const cache = new TreeCache(old, root);
    await cache.start();
    expect(spy).toHaveBeenCalled();
    expect(cache.mode).toBe('one-shot');
    await zk.create(`${root}/k`, Buffer.from('v'));
    await zk.setData(root, Buffer.from('r2'));
    await waitUntil(() => cache.get(`${root}/k`)?.data?.toString() === 'v' && cache.get(root)?.data?.toString() === 'r2', 'one-shot watches work');
    await cache.close();
    // Forcing persistent watches surfaces the error instead.
    const forced = new TreeCache(old, root, { watchMode: 'persistent' });
    await expect(forced.start()).rejects.toBeInstanceOf(UnimplementedError);
    await forced.close();
  });

  test('bad use gets typed errors', async () => {
    expect(() => new TreeCache(zk, 'x')).toThrow(RecipeArgumentError);
    expect(() => new TreeCache(zk, '/x', { maxDepth: -1 })).toThrow(RecipeArgumentError);
    expect(() => new TreeCache(zk, '/x', { watchMode: 'sometimes' as never })).toThrow(RecipeArgumentError);
    expect(() => new NodeCache(42 as never, '/x')).toThrow(RecipeArgumentError);
    const c = new TreeCache(zk, uniquePath('twice'));
    await c.start();
    await expect(c.start()).rejects.toBeInstanceOf(RecipeClosedError);
    await c.close();
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new TreeCache(closed, '/x').start()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new NodeCache(closed, '/x').start()).rejects.toBeInstanceOf(RecipeClosedError);
  });
});
