/**
 * Queues on both targets. Invariants from a shared record: every item whose
 * put succeeded is taken exactly once (acked exactly once for the locking
 * queue), FIFO for one producer and one consumer, while connections are cut
 * at random, replies are swallowed, a consumer's session is expired and the
 * server is killed (-9) and restarted on its data dir.
 */
import { Cluster, startTarget, TcpProxy } from '../harness';
import { expireSession } from '../harness/session-tools';
import { CreateMode, NoNodeError, ZooKeeper } from '../../src';
import { DistributedQueue, LockingQueue, PriorityQueue, QueueItem, priorityToString, deserializeItems, serializeItems } from '../../recipes/queue';
import { IndeterminateResultError, RecipeStateError } from '../../recipes/cache/support/recipe-errors';
import { RecipeArgumentError, RecipeClosedError, SessionLostError } from '../../recipes/util/errors';
import { afterOutage, Handles, isDead, START_TIMEOUT, seededRandom, sleep, targets, testSeed, uniquePath, waitUntil, within } from './support/recipe-fixtures';
import { ReplyDropProxy } from './support/reply-drop-proxy';


describe.each(targets())('queues on %s', (kind) => {
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

  test('FIFO: put, peek, take and poll in order; an empty take times out with null', async () => {
    const q = new DistributedQueue(zk, `${uniquePath('fifo')}/jobs`);
    expect(await q.poll()).toBeNull();
    expect(await q.peek()).toBeNull();
    expect(await q.take({ timeout: 200 })).toBeNull();
    for (let i = 0; i < 10; i++) await q.put(`item-${i}`);
    expect(await q.size()).toBe(10);
    expect((await q.peek())!.toString()).toBe('item-0');
    const out: string[] = [];
    for (let i = 0; i < 5; i++) out.push((await q.take())!.toString());
    for (let i = 0; i < 5; i++) out.push((await q.poll())!.toString());
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`));
    expect(await q.poll()).toBeNull();
    // Curator SimpleDistributedQueue layout: qn-<seq>, and no receipt is left behind.
    await q.put('x');
    const names = await zk.getChildren(q.path);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^qn-\d{10}$/);
  });

  test('a waiting take is woken by a put from another handle', async () => {
    const path = uniquePath('wake');
    const other = await handles.connect(cluster.connectString);
    const taking = new DistributedQueue(zk, path).take({ timeout: 20_000 });
    await sleep(100);
    await new DistributedQueue(other, path).put('hello');
    expect((await within(taking, 10_000, 'take woken'))!.toString()).toBe('hello');
  });

  test('a put or take whose reply is lost happens exactly once', async () => {
    const proxy = await ReplyDropProxy.start(cluster.servers[0].clientPort);
    try {
      const path = uniquePath('lost-reply');
      const h = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      const q = new DistributedQueue(h, path);
      await q.put('warm-up'); // creates the queue node
      proxy.dropReplies = true;
      const putting = q.put('once');
      await sleep(150);
      proxy.cut();
      proxy.dropReplies = false;
      await within(putting, 15_000, 'put after lost reply');
      const items = (await zk.getChildren(path)).filter((c) => c.startsWith('qn-'));
      expect(items).toHaveLength(2); // the put was not repeated

      expect((await q.take())!.toString()).toBe('warm-up');
      proxy.dropReplies = true;
      const taking = q.take();
      await sleep(150);
      proxy.cut();
      proxy.dropReplies = false;
      expect((await within(taking, 15_000, 'take after lost reply'))!.toString()).toBe('once');
      // Empty, the queue node is a container that the reaper may already have removed (Apache checks every second here).
      const emptyOrGone = async (): Promise<boolean> =>
        zk.getChildren(path).then(
          (names) => names.length === 0,
          (err: unknown) => {
            if (err instanceof NoNodeError) return true;
            throw err;
          },
        );
      await waitUntil(emptyOrGone, 'queue empty, receipts gone');
    } finally {
      await proxy.close();
    }
  });

  test('competing consumers with cut connections, a session expiry and a server kill take each item exactly once', async () => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const path = uniquePath('chaos-queue');
    const PRODUCERS = 2;
    const PER_PRODUCER = 50;
    const CONSUMERS = 3;
    const proxies = await Promise.all(Array.from({ length: CONSUMERS + PRODUCERS }, () => TcpProxy.start(cluster.servers[0].clientPort)));
    const put = new Set<string>();
    const putUnknown = new Set<string>();
    const taken = new Map<string, number>();
    let takeUnknown = 0;
    let stop = false;
    let expired = 0;
    const live: ZooKeeper[] = [];
    const fresh = async (i: number): Promise<ZooKeeper> => {
      const h = await handles.connect(proxies[i].hostPort, { sessionTimeout: 8000, connectTimeout: 30_000 });
      live[i] = h;
      return h;
    };
    const consumer = async (i: number): Promise<void> => {
      let h = await fresh(i);
      let q = new DistributedQueue(h, path);
      while (!stop) {
        try {
          const item = await q.take({ timeout: 300 });
          if (item !== null) taken.set(item.toString(), (taken.get(item.toString()) ?? 0) + 1);
        } catch (err) {
          if (err instanceof IndeterminateResultError) takeUnknown++;
          else if (!(err instanceof SessionLostError)) throw err;
        }
        if (isDead(h)) {
          h = await fresh(i);
          q = new DistributedQueue(h, path);
        }
      }
    };
    const producer = async (p: number): Promise<void> => {
      let h = await fresh(CONSUMERS + p);
      for (let n = 0; n < PER_PRODUCER; n++) {
        const item = `p${p}-${n}`;
        for (;;) {
          if (isDead(h)) h = await fresh(CONSUMERS + p);
          try {
            await new DistributedQueue(h, path).put(item);
            put.add(item);
          } catch (err) {
            if (err instanceof IndeterminateResultError) putUnknown.add(item);
            else if (!(err instanceof SessionLostError)) throw err;
            else if (isDead(h)) {
              h = await fresh(CONSUMERS + p);
              continue; // never sent: put it again
            }
          }
          break;
        }
      }
    };
    let killed = 0;
    let cuts = 0;
    let chaosError: Error | undefined;
    // Faults tied to progress, so each lands while items are in flight: an
    // expiry after a sixth of the items, a kill -9 and restart after half.
    const chaos = async (): Promise<void> => {
      for (let round = 0; !stop && round < 1000; round++) {
        await sleep(30 + rnd() * 80);
        proxies[Math.floor(rnd() * proxies.length)].cut();
        cuts++;
        if (expired === 0 && taken.size >= 15 && live[0] !== undefined && !isDead(live[0])) {
          await expireSession(cluster.connectString, live[0].sessionId, live[0].sessionPassword);
          expired++;
        }
        if (killed === 0 && taken.size >= 50) {
          await cluster.servers[0].kill();
          // A failed restart ends the test at once with its log tail, not as a later timeout.
          await cluster.servers[0].start().catch((err: Error) => {
            chaosError = err;
            throw err;
          });
          killed++;
        }
      }
    };
    try {
      const consumers = Array.from({ length: CONSUMERS }, (_, i) => consumer(i));
      const chaosDone = chaos();
      await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
      await waitUntil(
        () => {
          if (chaosError) throw chaosError;
          return [...put].every((it) => taken.has(it)) && killed === 1;
        },
        `every put item taken (seed ${seed})`,
        60_000,
        50,
      );
      await sleep(300); // let a stray duplicate show up if there were one
      stop = true;
      await Promise.all([...consumers, chaosDone]);

      const dup = [...taken].filter(([, n]) => n > 1).map(([k]) => k);
      expect({ seed, duplicates: dup }).toEqual({ seed, duplicates: [] });
      const unknownItem = [...taken.keys()].filter((k) => !put.has(k) && !putUnknown.has(k));
      expect(unknownItem).toEqual([]);
      // Items lost to an indeterminate take can only be as many as those takes.
      const missing = [...put].filter((k) => !taken.has(k));
      expect(missing).toEqual([]);
      expect(expired).toBe(1);
      expect(killed).toBe(1);
      expect(cuts).toBeGreaterThan(5);
      expect(put.size + putUnknown.size).toBe(PRODUCERS * PER_PRODUCER);
      expect(takeUnknown).toBeLessThanOrEqual(1);
    } catch (err) {
      // A failed restart starves the clients, whose errors would hide the cause.
      throw chaosError ?? err;
    } finally {
      stop = true;
      await Promise.all(proxies.map((p) => p.close()));
      if (!cluster.servers[0].running()) await cluster.servers[0].start().catch(() => undefined);
      await cluster.waitHealthy(30_000).catch(() => undefined); // the test's own outcome is what counts here
      // The kill may have outlasted the shared handle's session: later tests need a live one.
      zk = await afterOutage(zk, () => handles.connect(cluster.connectString, { sessionTimeout: 8000 }));
    }
  }, 120_000);

  test('one producer and one consumer keep FIFO order through cut connections', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const path = uniquePath('fifo-drops');
      const a = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      const b = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      const out: string[] = [];
      let stop = false;
      let cuts = 0;
      const cutter = (async () => {
        while (!stop) {
          await sleep(15 + cuts * 3);
          proxy.cut();
          cuts++;
        }
      })();
      const consumer = (async () => {
        const q = new DistributedQueue(b, path);
        while (out.length < 40) {
          const it = await q.take({ timeout: 20_000 });
          if (it === null) break;
          out.push(it.toString());
        }
      })();
      const q = new DistributedQueue(a, path);
      for (let i = 0; i < 40; i++) await q.put(String(i));
      await within(consumer, 60_000, 'consumer done');
      stop = true;
      await cutter;
      expect(out).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      expect(cuts).toBeGreaterThan(3);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  test('priority queue: lowest priority first, FIFO within one; Curator names and bytes', async () => {
    const path = uniquePath('prio');
    const q = new PriorityQueue(zk, path);
    await q.put('p10-a', 10);
    await q.put('p-5', -5);
    await q.put('p10-b', 10);
    await q.put('p0', 0);
    await q.put('p-1', -1);
    const names = (await zk.getChildren(path)).sort();
    expect(names[0].startsWith(`queue-${priorityToString(-5)}`)).toBe(true);
    expect(priorityToString(5)).toBe('100000005');
    expect(priorityToString(-1)).toBe('0FFFFFFFF');
    const { data } = await zk.getData(`${path}/${names[0]}`);
    expect(deserializeItems(data).map(String)).toEqual(['p-5']);
    const out: string[] = [];
    for (let i = 0; i < 5; i++) out.push((await q.take())!.toString());
    expect(out).toEqual(['p-5', 'p-1', 'p0', 'p10-a', 'p10-b']);
    // A Curator putMulti node (several items in one) is handed out item by item.
    await zk.create(`${path}/queue-${priorityToString(1)}`, serializeItems([Buffer.from('m1'), Buffer.from('m2')]), { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    expect((await q.take())!.toString()).toBe('m1');
    expect((await q.poll())!.toString()).toBe('m2');
    await expect(q.put('x', 1.5)).rejects.toBeInstanceOf(RecipeArgumentError);
    await expect(q.put('x', 2 ** 31)).rejects.toBeInstanceOf(RecipeArgumentError);
  });

  test('locking queue: release redelivers, ack removes, a dead consumer\'s item goes to another', async () => {
    const path = uniquePath('locking');
    const q = new LockingQueue(zk, path);
    await q.put('a');
    await q.put('b');
    const first = (await q.take())!;
    expect(first.data.toString()).toBe('a');
    // Held: another consumer gets the next one.
    const other = await handles.connect(cluster.connectString, { sessionTimeout: 4000 });
    const q2 = new LockingQueue(other, path);
    const second = (await q2.take())!;
    expect(second.data.toString()).toBe('b');
    expect(await q2.take({ timeout: 200 })).toBeNull();
    await first.release();
    const again = (await q2.take({ timeout: 5000 }))!;
    expect(again.data.toString()).toBe('a');
    await again.ack();
    await expect(again.ack()).rejects.toBeInstanceOf(RecipeStateError);
    expect(await q.size()).toBe(1);

    // 'b' is held by `other`; its session dies: 'b' comes back to `zk`.
    const waiting = q.take({ timeout: 20_000 });
    await expireSession(cluster.connectString, other.sessionId, other.sessionPassword);
    const redelivered = (await within(waiting, 20_000, 'redelivery'))!;
    expect(redelivered.data.toString()).toBe('b');
    await waitUntil(() => second.lost, 'the dead consumer sees its item lost');
    await expect(second.ack()).rejects.toBeInstanceOf(RecipeStateError);
    await redelivered.ack();
    expect(await q.size()).toBe(0);
    expect(() => new LockingQueue(zk, path, { lockPath: `${path}/locks` })).toThrow(RecipeStateError);
  });

  test('locking queue under cut connections: every item acked exactly once, some released and redelivered', async () => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const path = uniquePath('locking-chaos');
    const ITEMS = 40;
    const proxies = await Promise.all([0, 1, 2].map(() => TcpProxy.start(cluster.servers[0].clientPort)));
    const acked = new Map<string, number>();
    let releases = 0;
    let stop = false;
    try {
      const producer = new LockingQueue(zk, path);
      for (let i = 0; i < ITEMS; i++) await producer.put(`i${i}`);
      const consumer = async (i: number): Promise<void> => {
        const h = await handles.connect(proxies[i].hostPort, { sessionTimeout: 8000 });
        const q = new LockingQueue(h, path);
        while (!stop) {
          const item: QueueItem | null = await q.take({ timeout: 300 });
          if (item === null) continue;
          if (rnd() < 0.2) {
            releases++;
            await item.release();
            continue;
          }
          try {
            await item.ack();
            acked.set(item.data.toString(), (acked.get(item.data.toString()) ?? 0) + 1);
          } catch (err) {
            if (!(err instanceof RecipeStateError)) throw err; // lost hold: someone else gets it
          }
        }
      };
      const cs = [0, 1, 2].map((i) => consumer(i));
      const chaos = (async () => {
        for (let r = 0; !stop && r < 300; r++) {
          await sleep(50 + rnd() * 100);
          proxies[Math.floor(rnd() * 3)].cut();
        }
      })();
      await waitUntil(() => acked.size === ITEMS, `all items acked (seed ${seed})`, 60_000, 50);
      stop = true;
      await Promise.all([...cs, chaos]);
      expect({ seed, twice: [...acked].filter(([, n]) => n !== 1) }).toEqual({ seed, twice: [] });
      expect(releases).toBeGreaterThan(0);
      expect(await producer.size()).toBe(0);
    } finally {
      stop = true;
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 90_000);

  test('bad use gets typed errors', async () => {
    expect(() => new DistributedQueue(zk, 'jobs')).toThrow(RecipeArgumentError);
    expect(() => new PriorityQueue(zk, '/a/')).toThrow(RecipeArgumentError);
    expect(() => new LockingQueue(zk, '/q', { lockPath: 'x' })).toThrow(RecipeArgumentError);
    await expect(new DistributedQueue(zk, uniquePath('bad')).put(42 as never)).rejects.toBeInstanceOf(RecipeArgumentError);
    expect(() => deserializeItems(Buffer.from('junk'))).toThrow(/item format/);
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new DistributedQueue(closed, '/q').put('x')).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new PriorityQueue(closed, '/q').take()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new LockingQueue(closed, '/q').take()).rejects.toBeInstanceOf(RecipeClosedError);
  });
});
