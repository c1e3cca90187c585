/**
 * Barrier and DoubleBarrier on both targets: everyone waiting is released
 * (also when the connection drops while waiting and the barrier is removed
 * during the outage), timeouts and aborts, and bad use.
 */
import { Cluster, startTarget, TcpProxy } from '../harness';
import { ZooKeeper } from '../../src';
import { Barrier, DoubleBarrier } from '../../recipes/barrier';
import { RecipeStateError } from '../../recipes/cache/support/recipe-errors';
import { RecipeArgumentError, RecipeClosedError } from '../../recipes/util/errors';
import { childrenOrNone, Handles, START_TIMEOUT, targets, uniquePath, waitUntil, within } from './support/recipe-fixtures';

describe.each(targets())('barriers on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zk = await handles.connect(cluster.connectString, { sessionTimeout: 4000 });
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('a set barrier holds every waiter until it is removed, then releases them all', async () => {
    const path = `${uniquePath('barrier')}/gate`;
    const gate = new Barrier(zk, path);
    await gate.set();
    await gate.set(); // idempotent
    expect(await gate.isSet()).toBe(true);
    const waiters = await Promise.all([0, 1, 2].map(() => handles.connect(cluster.connectString)));
    let released = 0;
    const waits = waiters.map((h) => new Barrier(h, path).wait().then((open) => {
      released++;
      return open;
    }));
    // Each waiter has its watch in place before the removal.
    await waitUntil(async () => (await zk.exists(path)) !== null && released === 0, 'waiters registered');
    expect(await new Barrier(waiters[0], path).wait({ timeout: 200 })).toBe(false);
    expect(released).toBe(0);
    await gate.remove();
    expect(await within(Promise.all(waits), 10_000, 'waiters released')).toEqual([true, true, true]);
    expect(await gate.isSet()).toBe(false);
    await gate.remove(); // removing an open barrier is fine
    expect(await new Barrier(zk, path).wait({ timeout: 0 })).toBe(true);
  });

  test('a wait is aborted by its AbortSignal with the signal reason', async () => {
    const gate = new Barrier(zk, uniquePath('barrier-abort'));
    await gate.set();
    const ac = new AbortController();
    const waiting = gate.wait({ signal: ac.signal });
    const reason = new Error('stop waiting');
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await gate.remove();
  });

  test('a waiter whose connection drops, while the barrier is removed, is still released', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const path = uniquePath('barrier-drop');
      const gate = new Barrier(zk, path);
      await gate.set();
      const far = await handles.connect(proxy.hostPort, { sessionTimeout: 8000 });
      let open: boolean | undefined;
      const waiting = new Barrier(far, path).wait({ timeout: 30_000 }).then((o) => (open = o));
      await waitUntil(async () => (await zk.getChildren('/')).length > 0, 'ready');
      proxy.refuse();
      proxy.cut();
      await gate.remove(); // during the outage
      await new Promise((r) => setTimeout(r, 300));
      expect(open).toBeUndefined();
      proxy.allow();
      await within(waiting, 20_000, 'released after the reconnect');
      expect(open).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  test('a double barrier lets nobody in before all members arrived, and nobody out before all left', async () => {
    const path = uniquePath('double');
    const members = 4;
    const hs = await Promise.all(Array.from({ length: members }, () => handles.connect(cluster.connectString)));
    const barriers = hs.map((h) => new DoubleBarrier(h, path, members));
    const entered: number[] = [];
    const enters: Promise<boolean>[] = [];
    for (let i = 0; i < members - 1; i++) enters.push(barriers[i].enter({ timeout: 30_000 }).then((ok) => (entered.push(i), ok)));
    await waitUntil(async () => ((await zk.getChildren(path).catch(() => [])) as string[]).length === members - 1, 'three members waiting');
    await new Promise((r) => setTimeout(r, 200));
    expect(entered).toEqual([]); // still short of one
    enters.push(barriers[members - 1].enter({ timeout: 30_000 }));
    expect(await within(Promise.all(enters), 20_000, 'all entered')).toEqual([true, true, true, true]);
    expect((await zk.getChildren(path)).sort()).toContain('ready');

    const left: number[] = [];
    const leaves = barriers.slice(0, members - 1).map((b, i) => b.leave({ timeout: 30_000 }).then((ok) => (left.push(i), ok)));
    await new Promise((r) => setTimeout(r, 300));
    expect(left).toEqual([]); // the last member is still inside
    leaves.push(barriers[members - 1].leave({ timeout: 30_000 }));
    expect(await within(Promise.all(leaves), 20_000, 'all left')).toEqual([true, true, true, true]);
    expect(await childrenOrNone(zk, path)).toEqual([]);
  });

  test('a double barrier enter times out when the group stays short', async () => {
    const b = new DoubleBarrier(zk, uniquePath('double-short'), 2);
    expect(await b.enter({ timeout: 300 })).toBe(false);
    expect(await b.leave({ timeout: 2000 })).toBe(true);
  });

  test('bad use gets typed errors', async () => {
    expect(() => new Barrier(zk, 'no-slash')).toThrow(RecipeArgumentError);
    expect(() => new Barrier(zk, '/a//b')).toThrow(RecipeArgumentError);
    expect(() => new DoubleBarrier(zk, '/x', 0)).toThrow(RecipeArgumentError);
    expect(() => new DoubleBarrier(zk, '/x', -2)).toThrow(RecipeArgumentError);
    expect(() => new DoubleBarrier(zk, '/x', 1.5)).toThrow(RecipeArgumentError);
    const b = new DoubleBarrier(zk, uniquePath('double-misuse'), 1);
    await expect(b.leave()).rejects.toBeInstanceOf(RecipeStateError);
    expect(await b.enter()).toBe(true);
    await expect(b.enter()).rejects.toBeInstanceOf(RecipeStateError);
    expect(await b.leave()).toBe(true);
    await expect(new Barrier(zk, '/x').wait({ timeout: -1 })).rejects.toBeInstanceOf(RecipeArgumentError);
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new Barrier(closed, '/x').set()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new Barrier(closed, '/x').wait()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(new DoubleBarrier(closed, '/x', 2).enter()).rejects.toBeInstanceOf(RecipeClosedError);
  });
});
