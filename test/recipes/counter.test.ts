/**
 * SharedCount and DistributedAtomicLong on both targets. Invariant from a
 * shared record: no increment is lost and none is applied twice: with S
 * increments reported successful and I reported indeterminate (reply lost
 * and the node moved on, or the session ended with the write in flight),
 * the final value is between S and S + I, while connections are cut at
 * random and the server is killed and restarted. An increment that fails
 * with a definite error (SessionLostError: the session ended before
 * anything of it was applied) counts as not applied and is made again on a
 * new handle. A restart slower than the session timeout (a JVM on a loaded
 * machine) ends sessions; the atomic long case forces one such outage so
 * that path runs every time, not only when the machine is slow.
 */
import { Cluster, startTarget, TcpProxy } from '../harness';
import { ZooKeeper, isRetriable } from '../../src';
import { DistributedAtomicLong, SharedCount, decodeLong, encodeCount } from '../../recipes/counter';
import { IndeterminateResultError } from '../../recipes/cache/support/recipe-errors';
import { RecipeArgumentError, RecipeClosedError, SessionLostError } from '../../recipes/util/errors';
import { afterOutage, Handles, isDead, START_TIMEOUT, seededRandom, sleep, targets, testSeed, uniquePath, waitUntil } from './support/recipe-fixtures';

describe.each(targets())('counters on %s', (kind) => {
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
  const SESSION = 8000;
  /**
   * A connected handle: waits out connect timeouts (a server restarting
   * slowly) up to a bound, as the handle keeps trying after each one.
   */
  const connectPatiently = async (connectString: string): Promise<ZooKeeper> => {
    const h = handles.create(connectString, { sessionTimeout: SESSION, connectTimeout: 30_000 });
    const until = Date.now() + 90_000;
    for (;;) {
      try {
        await h.connected();
        return h;
      } catch (err) {
        if (!isRetriable(err) || Date.now() > until) throw err;
      }
    }
  };
  // A kill -9 and a slow restart (a JVM on a busy machine) can outlast a session: start a new one.
  const live = async (): Promise<ZooKeeper> => {
    zk = await afterOutage(zk, () => connectPatiently(cluster.connectString), SESSION * 3);
    return zk;
  };

  test('shared count: seed, set, versioned compare-and-set, change events on another handle', async () => {
    const path = `${uniquePath('count')}/n`;
    const a = new SharedCount(zk, path, 7);
    await a.start();
    expect(a.getCount()).toBe(7);
    expect((await zk.getData(path)).data).toEqual(encodeCount(7)); // Curator's 4-byte big-endian int
    const other = await handles.connect(cluster.connectString);
    const b = new SharedCount(other, path, 99); // the seed only applies to a missing node
    const seen: number[] = [];
    b.on('change', (v: number) => seen.push(v));
    await b.start();
    expect(b.getCount()).toBe(7);
    await a.setCount(10);
    await waitUntil(() => b.getCount() === 10, 'b sees 10');
    const stale = b.getVersionedValue();
    expect(await a.trySetCount(a.getVersionedValue(), 11)).toBe(true);
    expect(await b.trySetCount(stale, 50)).toBe(false); // somebody changed it first
    expect(b.getCount()).toBe(11); // refreshed by the failed try
    expect(await b.trySetCount(b.getVersionedValue(), 12)).toBe(true);
    await waitUntil(() => a.getCount() === 12, 'a sees 12');
    expect(seen).toEqual(expect.arrayContaining([10, 11]));
    await expect(a.setCount(2 ** 31)).rejects.toBeInstanceOf(RecipeArgumentError);
    await a.close();
    await b.close();
    expect(() => a.getCount()).toThrow(RecipeClosedError);
  });

  test('shared count: contenders doing compare-and-set loops through cut connections and an outage past the session timeout never lose an increment', async () => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const path = uniquePath('count-race');
    const proxies = await Promise.all([0, 1, 2].map(() => TcpProxy.start(cluster.servers[0].clientPort)));
    let ok = 0;
    let unknown = 0;
    let renewed = 0;
    let stop = false;
    try {
      // A session can end under cuts on a loaded machine (no handshake done for a whole session timeout): go on with a new one.
      const open = async (p: TcpProxy): Promise<{ c: SharedCount; h: ZooKeeper }> => {
        const h = await connectPatiently(p.hostPort);
        const c = new SharedCount(h, path, 0);
        await c.start();
        return { c, h };
      };
      const counts = await Promise.all(proxies.map(open));
      let cuts = 0;
      let outage = false;
      let doneAtOutage = -1;
      // Half way, the server stays down past the session timeout: every
      // session ends, with compare-and-sets in flight.
      const chaos = (async () => {
        while (!stop) {
          await sleep(10 + rnd() * 40);
          proxies[Math.floor(rnd() * 3)].cut();
          cuts++;
          if (!outage && ok + unknown >= 60) {
            outage = true;
            doneAtOutage = ok + unknown;
            await cluster.servers[0].kill();
            await sleep(SESSION + 2000);
            await cluster.servers[0].start();
          }
        }
      })();
      await Promise.all(counts.map(async (mine, i) => {
        const renew = async (): Promise<void> => {
          await mine.c.close();
          mine = await open(proxies[i]);
          renewed++;
        };
        for (let n = 0; n < 40; n++) {
          // Nobody finishes before the outage began, so it always meets live contenders.
          if (n === 38) await waitUntil(() => outage, 'the outage began', 90_000);
          for (;;) {
            if (isDead(mine.h)) await renew();
            const v = mine.c.getVersionedValue();
            try {
              if (await mine.c.trySetCount(v, v.value + 1)) {
                ok++;
                break;
              }
            } catch (err) {
              if (err instanceof SessionLostError) {
                await renew(); // definite: not applied, make it again
                continue;
              }
              if (!(err instanceof IndeterminateResultError)) throw err;
              unknown++;
              break;
            }
          }
        }
        counts[i] = mine;
      }));
      stop = true;
      await chaos;
      await cluster.waitHealthy(60_000);
      const final = (await (await live()).getData(path)).data!.readInt32BE(0);
      const record = { seed, ok, unknown, renewed, doneAtOutage };
      expect({ ...record, lost: final < ok, doubled: final > ok + unknown }).toEqual({ ...record, lost: false, doubled: false });
      expect(ok + unknown).toBe(120);
      expect(cuts).toBeGreaterThan(3);
      // Every contender was mid-run at the outage, longer than its session: each needed a new handle.
      expect(doneAtOutage).toBeLessThan(120);
      expect(renewed).toBeGreaterThanOrEqual(3);
      await Promise.all(counts.map(({ c }) => c.close()));
    } finally {
      stop = true;
      await Promise.all(proxies.map((p) => p.close()));
      await cluster.waitHealthy(60_000);
      await live();
    }
  }, 240_000);

  test('atomic long: increments from contenders through cut connections and a server kill: none lost, none doubled', async () => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const path = uniquePath('atomic');
    const CONTENDERS = 4;
    const EACH = 20;
    const TOTAL = CONTENDERS * EACH;
    const proxies = await Promise.all(Array.from({ length: CONTENDERS }, () => TcpProxy.start(cluster.servers[0].clientPort)));
    let ok = 0;
    let unknown = 0;
    let definite = 0; // SessionLostError: not applied, made again
    let renewed = 0; // handles replaced because their session ended
    let stop = false;
    let killed = 0;
    let outage = false;
    let doneAtOutage = -1;
    try {
      // Kill 1 restarts at once (sessions usually survive it). Kill 2 keeps the
      // server down past the session timeout, so every contender's session ends
      // (locally: "no server reachable") while increments are in flight.
      const chaos = (async () => {
        while (!stop) {
          await sleep(40 + rnd() * 80);
          proxies[Math.floor(rnd() * CONTENDERS)].cut();
          if (killed === 0 && ok + unknown >= TOTAL / 4) {
            await cluster.servers[0].kill();
            await cluster.servers[0].start();
            killed++;
          } else if (killed === 1 && ok + unknown >= TOTAL / 2) {
            outage = true;
            doneAtOutage = ok + unknown;
            await cluster.servers[0].kill();
            await sleep(SESSION + 2000);
            await cluster.servers[0].start();
            killed++;
          }
        }
      })();
      await Promise.all(proxies.map(async (p) => {
        let h!: ZooKeeper;
        const connect = async (): Promise<DistributedAtomicLong> => {
          h = await connectPatiently(p.hostPort);
          return new DistributedAtomicLong(h, path, { retry: { retries: 50, maxTimeout: 50 } });
        };
        let counter = await connect();
        for (let n = 0; n < EACH; n++) {
          // Nobody finishes before the outage began, so it always meets live contenders.
          if (n === EACH - 2) await waitUntil(() => outage, 'the outage began', 90_000);
          for (;;) {
            if (isDead(h)) {
              counter = await connect();
              renewed++;
            }
            try {
              const r = await counter.increment();
              if (!r.succeeded) continue; // out of tries: not applied, go again
              expect(r.postValue).toBe(r.preValue + 1n);
              ok++;
            } catch (err) {
              if (err instanceof SessionLostError) {
                definite++; // the session ended before anything of it was applied
                continue; // the handle is dead: renewed at the top
              }
              if (!(err instanceof IndeterminateResultError)) throw err;
              unknown++;
            }
            break;
          }
        }
      }));
      await waitUntil(() => killed === 2, 'both kills happened', 90_000);
      stop = true;
      await chaos;
      const final = decodeLong((await (await live()).getData(path)).data);
      const record = { seed, ok, unknown, definite, renewed, doneAtOutage };
      expect({ ...record, final: Number(final) >= ok && Number(final) <= ok + unknown }).toEqual({ ...record, final: true });
      expect(ok + unknown).toBe(TOTAL);
      // Every contender was mid-run at the outage, longer than its session: each needed a new handle.
      expect(doneAtOutage).toBeLessThan(TOTAL);
      expect(renewed).toBeGreaterThanOrEqual(CONTENDERS);
    } finally {
      stop = true;
      await Promise.all(proxies.map((p) => p.close()));
      await cluster.waitHealthy(60_000);
      await live();
    }
  }, 240_000);

  test('atomic long: promoted to a lock when optimism runs out; every increment counted', async () => {
    const path = uniquePath('atomic-lock');
    const hs = await Promise.all([0, 1, 2, 3].map(() => handles.connect(cluster.connectString)));
    let promoted = 0;
    let ok = 0;
    await Promise.all(hs.map(async (h) => {
      const c = new DistributedAtomicLong(h, path, { retry: { retries: 0 }, promotedToLock: { lockPath: `${path}-lock`, retry: { retries: 20, maxTimeout: 20 } } });
      for (let i = 0; i < 10; i++) {
        const r = await c.increment();
        if (r.stats.promotedTries > 0) promoted++;
        if (r.succeeded) ok++;
      }
    }));
    expect(await new DistributedAtomicLong(zk, path).get()).toBe(BigInt(ok));
    expect(ok).toBeGreaterThan(30);
    expect(promoted).toBeGreaterThan(0);
  }, 60_000);

  test('atomic long: Curator encoding, set, compare-and-set, initialize, 64-bit values', async () => {
    const path = uniquePath('atomic-ops');
    const c = new DistributedAtomicLong(zk, path);
    expect(await c.get()).toBe(0n); // missing node reads 0
    expect(await c.initialize(5)).toBe(true);
    expect(await c.initialize(9)).toBe(false);
    expect(await c.get()).toBe(5n);
    await c.forceSet(-2n);
    expect((await zk.getData(path)).data!.toString('hex')).toBe('fffffffffffffffe');
    expect((await c.compareAndSet(3, 4)).succeeded).toBe(false);
    const cas = await c.compareAndSet(-2n, 2n ** 62n);
    expect(cas).toMatchObject({ succeeded: true, preValue: -2n, postValue: 2n ** 62n });
    const add = await c.add(2n ** 62n - 1n);
    expect(add.postValue).toBe(2n ** 63n - 1n); // Long.MAX_VALUE
    expect((await c.increment()).postValue).toBe(-(2n ** 63n)); // wraps like a Java long
    expect((await c.subtract(1)).postValue).toBe(2n ** 63n - 1n);
    expect((await c.trySet(42)).postValue).toBe(42n);
    expect((await c.decrement()).postValue).toBe(41n);
    await expect(c.add(0.5)).rejects.toBeInstanceOf(RecipeArgumentError);
    await expect(c.add(2n ** 64n)).rejects.toBeInstanceOf(RecipeArgumentError);
    expect(() => new DistributedAtomicLong(zk, 'rel')).toThrow(RecipeArgumentError);
    expect(() => new DistributedAtomicLong(zk, '/x', { retry: { retries: -1 } })).toThrow(RecipeArgumentError);
    expect(() => new SharedCount(zk, '/x', 1.5)).toThrow(RecipeArgumentError);
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new SharedCount(closed, '/x').start()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new DistributedAtomicLong(closed, '/x').increment()).rejects.toBeInstanceOf(RecipeClosedError);
  });
});
