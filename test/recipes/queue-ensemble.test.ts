/**
 * Queue, atomic long and tree cache on a 3-server ensemble (Apache's and
 * ours) while the leader is killed (-9) and restarted: every queued item is
 * taken exactly once, no increment is lost or doubled, and the cache
 * converges to the tree.
 */
import { Cluster, startTarget } from '../harness';
import { NoNodeError } from '../../src';
import { DistributedQueue } from '../../recipes/queue';
import { DistributedAtomicLong, decodeLong } from '../../recipes/counter';
import { TreeCache } from '../../recipes/cache';
import { IndeterminateResultError } from '../../recipes/cache/support/recipe-errors';
import { SessionLostError } from '../../recipes/util/errors';
import { Handles, isDead, START_TIMEOUT, sleep, targetsWith, uniquePath, waitUntil } from './support/recipe-fixtures';

const kinds = targetsWith('ensemble');

if (kinds.length === 0) {
  describe.skip('recipes on a 3-server ensemble with a leader kill (no selected target runs an ensemble)', () => {
    test('needs Apache ZooKeeper (ZK_TARGETS)', () => undefined);
  });
} else {
  describe.each(kinds)('recipes on a 3-server %s ensemble with a leader kill', (kind) => {
    let cluster: Cluster;
    const handles = new Handles();

    beforeAll(async () => {
      cluster = await startTarget(kind, { servers: 3, tickTime: 500 });
    }, START_TIMEOUT);
    afterAll(async () => {
      await handles.closeAll();
      await cluster?.stop();
    });

    test('exactly-once queue, counted increments and a converged cache through a leader kill -9', async () => {
      const opts = { sessionTimeout: 10_000, connectTimeout: 30_000 };
      const base = uniquePath('ensemble');
      const qPath = `${base}/queue`;
      const cPath = `${base}/counter`;
      const ITEMS = 60;
      const observer = await handles.connect(cluster.connectString, opts);
      await observer.create(base, null);
      const cache = new TreeCache(() => handles.create(cluster.connectString, opts), base, { maxDepth: 1 });
      await cache.start();

      const put = new Set<string>();
      const putUnknown = new Set<string>();
      const taken = new Map<string, number>();
      let incOk = 0;
      let incUnknown = 0;
      let stop = false;
      const producer = (async () => {
        let zk = await handles.connect(cluster.connectString, opts);
        for (let i = 0; i < ITEMS; i++) {
          if (isDead(zk)) zk = await handles.connect(cluster.connectString, opts);
          try {
            await new DistributedQueue(zk, qPath).put(`i${i}`);
            put.add(`i${i}`);
          } catch (err) {
            if (err instanceof IndeterminateResultError) putUnknown.add(`i${i}`);
            else if (err instanceof SessionLostError) {
              zk = await handles.connect(cluster.connectString, opts);
              i--;
            } else throw err;
          }
          await sleep(15);
        }
      })();
      const consumer = async (): Promise<void> => {
        let zk = await handles.connect(cluster.connectString, opts);
        while (!stop) {
          try {
            const it = await new DistributedQueue(zk, qPath).take({ timeout: 300 });
            if (it !== null) taken.set(it.toString(), (taken.get(it.toString()) ?? 0) + 1);
          } catch (err) {
            if (!(err instanceof IndeterminateResultError) && !(err instanceof SessionLostError)) throw err;
          }
          if (isDead(zk)) zk = await handles.connect(cluster.connectString, opts);
        }
      };
      const incrementer = async (): Promise<void> => {
        let zk = await handles.connect(cluster.connectString, opts);
        for (let n = 0; n < 25; n++) {
          if (isDead(zk)) zk = await handles.connect(cluster.connectString, opts);
          try {
            const r = await new DistributedAtomicLong(zk, cPath, { retry: { retries: 100, maxTimeout: 50 } }).increment();
            if (r.succeeded) incOk++;
            else n--;
          } catch (err) {
            if (err instanceof IndeterminateResultError) incUnknown++;
            else if (err instanceof SessionLostError) {
              zk = await handles.connect(cluster.connectString, opts);
              n--;
            } else throw err;
          }
        }
      };
      const consumers = [consumer(), consumer()];
      const incrementers = [incrementer(), incrementer()];

      await waitUntil(() => taken.size >= ITEMS / 3, 'a third of the items taken', 30_000);
      const leader = await cluster.leader();
      expect(leader).toBeDefined();
      await leader!.kill();
      await sleep(500);
      await leader!.start({ waitFor: 'process' });
      await cluster.waitHealthy(60_000);

      await producer;
      await Promise.all(incrementers);
      await waitUntil(() => [...put].every((k) => taken.has(k)), 'every put item taken', 60_000, 50);
      await sleep(300);
      stop = true;
      await Promise.all(consumers);

      expect([...taken].filter(([, n]) => n > 1)).toEqual([]);
      expect([...taken.keys()].filter((k) => !put.has(k) && !putUnknown.has(k))).toEqual([]);
      expect(put.size + putUnknown.size).toBe(ITEMS);
      const reader = await handles.connect(cluster.connectString, opts);
      await reader.sync(cPath);
      const final = Number(decodeLong((await reader.getData(cPath)).data));
      expect({ final, lost: final < incOk, doubled: final > incOk + incUnknown }).toEqual({ final, lost: false, doubled: false });
      expect(incOk + incUnknown).toBe(50);

      // The cache (depth 1) agrees with the server about base's children and the counter's data.
      await reader.sync(base);
      const want = (await reader.getChildren(base)).sort();
      await waitUntil(() => JSON.stringify(cache.getChildren(base)) === JSON.stringify(want), 'cache children converged', 30_000);
      await waitUntil(async () => {
        const d = cache.get(cPath)?.data;
        try {
          return d != null && decodeLong(d) === decodeLong((await reader.getData(cPath)).data);
        } catch (err) {
          if (err instanceof NoNodeError) return false;
          throw err;
        }
      }, 'cache data converged', 30_000);
      await cache.close();
    }, 180_000);
  });
}
