/**
 * Locks, one behaviour at a time, against Apache ZooKeeper 3.8 and our
 * server: Curator/kazoo node names, exclusion, re-entrancy, timeout and
 * abort (leaving no node behind), `await using`, each waiter watching only
 * its predecessor, protected create finding a node whose reply was lost,
 * release through connection loss, read/write rules, semaphore leases,
 * and clear errors for bad use.
 */
import { CreateMode, ZooKeeper } from '../../src';
import {
  AcquireTimeoutError,
  ConnectionState,
  ConnectionStateTracker,
  Mutex,
  NotHeldError,
  ReadWriteLock,
  RecipeArgumentError,
  RecipeClosedError,
  Semaphore,
} from '../../recipes';
import { Cluster, startTarget, TcpProxy } from '../harness';
import { childrenOrNone, Handles, START_TIMEOUT, targets, uniquePath, waitUntil, sleep } from './support/recipe-fixtures';
import { ReplyDropProxy } from './support/reply-drop-proxy';

const CURATOR_LOCK = /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lock-\d{10}$/;
const KAZOO_LOCK = /^[0-9a-f]{32}__lock__\d{10}$/;

describe.each(targets())('locks on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let a: ZooKeeper;
  let b: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    a = await handles.connect(cluster.connectString);
    b = await handles.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('mutex: Curator node name, exclusion, hand-off on release', async () => {
    const path = uniquePath('mutex');
    const m1 = new Mutex(a, path);
    const m2 = new Mutex(b, path);
    const h1 = await m1.acquire();
    expect(m1.isAcquired()).toBe(true);
    const children = await a.getChildren(path);
    expect(children).toHaveLength(1);
    expect(children[0]).toMatch(CURATOR_LOCK);
    expect((await a.exists(`${path}/${children[0]}`))!.ephemeralOwner).toBe(a.sessionId);

    let second = false;
    const p2 = m2.acquire().then((h) => {
      second = true;
      return h;
    });
    await waitUntil(async () => (await a.getChildren(path)).length === 2, 'the waiter queued');
    await sleep(100);
    expect(second).toBe(false);
    await h1.release();
    expect(m1.isAcquired()).toBe(false);
    const h2 = await p2;
    expect(m2.isAcquired()).toBe(true);
    await h2.release();
    expect(await childrenOrNone(a, path)).toEqual([]);
  });

  test('mutex: kazoo layout names its node <uuid>__lock__<seq>', async () => {
    const path = uniquePath('kmutex');
    const m = new Mutex(a, path, { layout: 'kazoo', data: 'me' });
    const h = await m.acquire();
    const [child] = await a.getChildren(path);
    expect(child).toMatch(KAZOO_LOCK);
    expect((await a.getData(`${path}/${child}`)).data!.toString()).toBe('me');
    await h.release();
  });

  test('mutex: re-entrant for the same object; freed with the last release', async () => {
    const path = uniquePath('reentrant');
    const m = new Mutex(a, path);
    const h1 = await m.acquire();
    const h2 = await m.acquire();
    expect(await a.getChildren(path)).toHaveLength(1);
    await h2.release();
    expect(m.isAcquired()).toBe(true);
    expect(await a.getChildren(path)).toHaveLength(1);
    await h1.release();
    expect(m.isAcquired()).toBe(false);
    await expect(m.release()).rejects.toBeInstanceOf(NotHeldError);
    // A hold released twice is released once.
    const h3 = await m.acquire();
    await h3.release();
    await h3.release();
    await expect(m.release()).rejects.toBeInstanceOf(NotHeldError);
  });

  test('mutex: await using releases at the end of the block, also on throw', async () => {
    const path = uniquePath('using');
    const m = new Mutex(a, path);
    await expect(
      (async () => {
        await using hold = await m.acquire();
        void hold;
        expect(m.isAcquired()).toBe(true);
        throw new Error('work failed');
      })(),
    ).rejects.toThrow('work failed');
    expect(m.isAcquired()).toBe(false);
    expect(await childrenOrNone(a, path)).toEqual([]);
  });

  test('mutex: timeout and abort give up and leave no node behind', async () => {
    const path = uniquePath('timeout');
    const holder = new Mutex(a, path);
    const h = await holder.acquire();
    const waiter = new Mutex(b, path);
    await expect(waiter.acquire({ timeout: 300 })).rejects.toBeInstanceOf(AcquireTimeoutError);
    expect(await waiter.tryAcquire({ timeout: 100 })).toBeNull();
    const ctl = new AbortController();
    const p = waiter.acquire({ signal: ctl.signal });
    await waitUntil(async () => (await a.getChildren(path)).length === 2, 'the waiter queued');
    ctl.abort(new Error('stop waiting'));
    await expect(p).rejects.toThrow('stop waiting');
    expect(await a.getChildren(path)).toHaveLength(1);
    expect(waiter.isAcquired()).toBe(false);
    await h.release();
  });

  test('mutex: each waiter watches only its predecessor; the next in line takes a release without listing again', async () => {
    const path = uniquePath('herd');
    const n = 5;
    const zks = await Promise.all(Array.from({ length: n }, () => handles.connect(cluster.connectString)));
    const lists = zks.map(() => 0);
    zks.forEach((zk, i) => {
      const orig = zk.getChildren.bind(zk);
      (zk as any).getChildren = (...args: any[]) => {
        lists[i]++;
        return (orig as any)(...args);
      };
    });
    const mutexes = zks.map((zk) => new Mutex(zk, path));
    const first = await mutexes[0].acquire();
    const order: number[] = [];
    const pending = mutexes.slice(1).map(async (m, j) => {
      const h = await m.acquire();
      order.push(j + 1);
      return h;
    });
    await waitUntil(async () => (await a.getChildren(path)).length === n, 'every waiter queued');
    await sleep(200);
    const before = [...lists];
    await first.release();
    await waitUntil(() => order.length === 1, 'the next waiter acquired');
    await sleep(300);
    // The released node's successor took the lock on its deletion alone; nobody listed the children again.
    expect(order).toHaveLength(1);
    expect(lists.map((c, i) => c - before[i])).toEqual(zks.map(() => 0));
    // Hand the lock down the line; every waiter gets it exactly once.
    for (let k = 0; k < n - 1; k++) {
      await waitUntil(() => order.length === k + 1, `waiter ${k + 1} acquired`);
      await (await pending[order[k] - 1]).release();
    }
    expect(new Set(order).size).toBe(n - 1);
    await Promise.all(zks.map((zk) => zk.close()));
  });

  test('mutex: a waiter whose predecessor gives up (not the holder) looks again and keeps waiting', async () => {
    const path = uniquePath('giveup');
    const c = await handles.connect(cluster.connectString);
    const holder = await new Mutex(a, path).acquire();
    const quitter = new Mutex(b, path).acquire({ timeout: 1500 });
    await waitUntil(async () => (await a.getChildren(path)).length === 2, 'the second contender queued');
    const third = new Mutex(c, path);
    let acquired = false;
    const waiting = third.acquire().then((h) => {
      acquired = true;
      return h;
    });
    await waitUntil(async () => (await a.getChildren(path)).length === 3, 'the third contender queued');
    // The third watches the second; the second times out and deletes its node while the first still holds.
    await expect(quitter).rejects.toBeInstanceOf(AcquireTimeoutError);
    await waitUntil(async () => (await a.getChildren(path)).length === 2, 'the quitter left');
    await sleep(300);
    expect(acquired).toBe(false);
    expect(third.isAcquired()).toBe(false);
    await holder.release();
    const h3 = await waiting;
    expect(third.isAcquired()).toBe(true);
    await h3.release();
  });

  test('read/write lock: a reader behind two writers waits for both; behind one it takes the release at once', async () => {
    const path = uniquePath('rw-line');
    const c = await handles.connect(cluster.connectString);
    const w1 = await new ReadWriteLock(a, path).writeLock.acquire();
    const w2lock = new ReadWriteLock(b, path);
    const w2p = w2lock.writeLock.acquire();
    await waitUntil(async () => (await a.getChildren(path)).length === 2, 'the second writer queued');
    const reader = new ReadWriteLock(c, path);
    let reading = false;
    const rp = reader.readLock.acquire().then((h) => {
      reading = true;
      return h;
    });
    await waitUntil(async () => (await a.getChildren(path)).length === 3, 'the reader queued');
    // The reader watches the first writer, but the second is also ahead of it.
    await w1.release();
    const w2 = await w2p;
    await sleep(300);
    expect(reading).toBe(false);
    expect(reader.readLock.isAcquired()).toBe(false);
    await w2.release();
    const r = await rp;
    expect(reader.readLock.isAcquired()).toBe(true);
    await r.release();
  });

  test('protected create: a lock node whose create reply was lost is found again, not duplicated', async () => {
    const path = uniquePath('lostreply');
    await a.create(path, null);
    const proxy = await ReplyDropProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      const m = new Mutex(zk, path);
      proxy.dropReplies = true;
      const acquired = m.acquire();
      await waitUntil(async () => (await a.getChildren(path)).length === 1, 'the create reached the server');
      proxy.cut();
      proxy.dropReplies = false;
      await acquired;
      const children = await a.getChildren(path);
      expect(children).toHaveLength(1);
      expect(m.nodePath).toBe(`${path}/${children[0]}`);
      await m.release();
      expect(await childrenOrNone(a, path)).toEqual([]);
      await zk.close();
    } finally {
      await proxy.close();
    }
  });

  test('release survives connection loss: the delete is retried after reconnecting', async () => {
    const path = uniquePath('release');
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      const m = new Mutex(zk, path);
      const states: ConnectionState[] = [];
      ConnectionStateTracker.for(zk).on('state', (s) => states.push(s));
      const suspended = new Promise<void>((r) => m.once('suspended', () => r()));
      await m.acquire();
      // A held lock reports the doubt; then a release issued while the bytes are stuck is retried after the reconnect.
      proxy.cut();
      await suspended;
      await waitUntil(() => states[states.length - 1] === ConnectionState.RECONNECTED, 'reconnected');
      expect(m.isAcquired()).toBe(true);
      proxy.pause();
      const released = m.release();
      await sleep(50);
      proxy.cut();
      proxy.resume();
      await released;
      expect(await childrenOrNone(a, path)).toEqual([]);
      expect(states).toContain(ConnectionState.SUSPENDED);
      expect(states[states.length - 1]).toBe(ConnectionState.RECONNECTED);
      await zk.close();
    } finally {
      await proxy.close();
    }
  });

  test('read/write lock: readers share, a writer excludes, the writer may take the read lock', async () => {
    const path = uniquePath('rw');
    const r1 = new ReadWriteLock(a, path);
    const r2 = new ReadWriteLock(b, path);
    const read1 = await r1.readLock.acquire();
    const read2 = await r2.readLock.acquire({ timeout: 5000 });
    const names = await a.getChildren(path);
    expect(names.every((n) => /^_c_[0-9a-f-]{36}-__READ__\d{10}$/.test(n))).toBe(true);
    // A writer waits for both readers.
    expect(await r2.writeLock.tryAcquire({ timeout: 300 })).toBeNull();
    const writing = r2.writeLock.acquire();
    await waitUntil(async () => (await a.getChildren(path)).some((n) => n.includes('__WRIT__')), 'writer queued');
    // A reader arriving after a queued writer waits behind it.
    const r3 = new ReadWriteLock(a, path);
    expect(await r3.readLock.tryAcquire({ timeout: 300 })).toBeNull();
    await read1.release();
    await read2.release();
    const w = await writing;
    expect(r2.writeLock.isAcquired()).toBe(true);
    // The write-lock holder may read; another object may not.
    const rInside = await r2.readLock.acquire({ timeout: 5000 });
    expect(await r1.readLock.tryAcquire({ timeout: 300 })).toBeNull();
    await rInside.release();
    await w.release();
    const rAfter = await r1.readLock.acquire({ timeout: 5000 });
    await rAfter.release();
  });

  test('semaphore: Curator V2 layout; never more than maxLeases; all-or-none acquireMany', async () => {
    const path = uniquePath('sem');
    const s1 = new Semaphore(a, path, 2);
    const s2 = new Semaphore(b, path, 2);
    const l1 = await s1.acquire();
    expect((await a.getChildren(`${path}/leases`))[0]).toMatch(/^_c_[0-9a-f-]{36}-lease-\d{10}$/);
    const l2 = await s2.acquire();
    expect(await s2.tryAcquire({ timeout: 300 })).toBeNull();
    expect(await a.getChildren(`${path}/leases`)).toHaveLength(2);
    const waiting = s2.acquire();
    await sleep(100);
    await l1.close();
    const l3 = await waiting;
    expect(l3.isValid()).toBe(true);
    expect(l1.isValid()).toBe(false);
    await expect(l1.close()).rejects.toBeInstanceOf(NotHeldError);
    await l2.close();
    await l3.close();
    const both = await s1.acquireMany(2, { timeout: 5000 });
    expect(await a.getChildren(`${path}/leases`)).toHaveLength(2);
    for (const l of both) await l.close();
    expect(await childrenOrNone(a, `${path}/leases`)).toEqual([]);
    {
      await using lease = await s1.acquire();
      expect(lease.isValid()).toBe(true);
    }
    expect(await childrenOrNone(a, `${path}/leases`)).toEqual([]);
  });

  test('bad use gets clear errors', async () => {
    expect(() => new Mutex(a, 'no-slash')).toThrow(RecipeArgumentError);
    expect(() => new Mutex(a, '/a//b')).toThrow(RecipeArgumentError);
    expect(() => new Mutex(a, '/a', { layout: 'zk' as any })).toThrow(RecipeArgumentError);
    expect(() => new Semaphore(a, '/s', -1)).toThrow(RecipeArgumentError);
    expect(() => new Semaphore(a, '/s', 0)).toThrow(RecipeArgumentError);
    expect(() => new Semaphore(a, '/s', 1.5)).toThrow(RecipeArgumentError);
    await expect(new Mutex(a, '/x').acquire({ timeout: -5 })).rejects.toBeInstanceOf(RecipeArgumentError);
    await expect(new Mutex(a, uniquePath('nh')).release()).rejects.toBeInstanceOf(NotHeldError);
    await expect(new Semaphore(a, uniquePath('sq'), 2).acquireMany(3)).rejects.toBeInstanceOf(RecipeArgumentError);
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new Mutex(closed, '/x').acquire()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new Semaphore(closed, '/x', 1).acquire()).rejects.toBeInstanceOf(RecipeClosedError);
  });

  test('a holder whose session expires is told LOST and no longer claims the lock', async () => {
    const { expireSession } = await import('../harness/session-tools');
    const path = uniquePath('expire');
    const zk = await handles.connect(cluster.connectString, { sessionTimeout: 6000 });
    const m = new Mutex(zk, path);
    await m.acquire();
    const lost = new Promise<void>((r) => m.once('lost', () => r()));
    const other = new Mutex(b, path);
    const next = other.acquire({ timeout: 20_000 });
    await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword);
    await lost;
    expect(m.isAcquired()).toBe(false);
    await m.release(); // a lost hold releases quietly, once
    await expect(m.release()).rejects.toBeInstanceOf(NotHeldError);
    await (await next).release();
    await expect(m.acquire()).rejects.toBeInstanceOf(RecipeClosedError);
  });
});
