/**
 * Watches: one-shot data/exist/child watches, the ordering guarantee (a
 * client sees the event before the data of a later read), persistent and
 * persistent-recursive watches, removeWatches and checkWatches.
 */
import { Cluster, startTarget, targets } from '../harness';
import { AddWatchMode, CreateMode, ErrorCode, EventType, WatcherType, ZooKeeper } from '../../src';
import { Clients, START_TIMEOUT, EventLog, keeperError, sleep, uniquePath } from './client-fixtures';

describe.each(targets())('watches on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let zk: ZooKeeper;
  let writer: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, {});
    zk = await clients.connect(cluster.connectString);
    writer = await clients.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('exists on a missing node fires NodeCreated once', async () => {
    const p = uniquePath('w-created');
    const log = new EventLog();
    expect(await zk.exists(p, log.watcher)).toBeNull();
    await writer.create(p, null);
    const e = await log.nextOf(EventType.NodeCreated, p);
    expect(e.path).toBe(p);
    await writer.setData(p, Buffer.from('x'), -1);
    await writer.delete(p);
    await zk.sync(p);
    await sleep(100);
    expect(log.nodeEvents).toHaveLength(1); // one-shot
  });

  test('getData fires NodeDataChanged, then NodeDeleted on a re-armed watch', async () => {
    const p = uniquePath('w-data');
    await writer.create(p, Buffer.from('0'));
    const log = new EventLog();
    await zk.getData(p, log.watcher);
    await writer.setData(p, Buffer.from('1'), -1);
    await log.nextOf(EventType.NodeDataChanged, p);
    await zk.getData(p, log.watcher);
    await writer.delete(p);
    await log.nextOf(EventType.NodeDeleted, p);
    expect(log.nodeEvents.map((e) => e.type)).toEqual([EventType.NodeDataChanged, EventType.NodeDeleted]);
  });

  test('getChildren fires NodeChildrenChanged on create and on delete of a child', async () => {
    const p = uniquePath('w-kids');
    await writer.create(p, null);
    const log = new EventLog();
    expect(await zk.getChildren(p, log.watcher)).toEqual([]);
    await writer.create(`${p}/a`, null);
    await log.nextOf(EventType.NodeChildrenChanged, p);
    expect(await zk.getChildren(p, log.watcher)).toEqual(['a']);
    await writer.setData(`${p}/a`, Buffer.from('no child event'), -1);
    await writer.delete(`${p}/a`);
    await log.next((e) => e.type === EventType.NodeChildrenChanged && log.nodeEvents.length === 2);
    expect(log.nodeEvents).toHaveLength(2);
  });

  test('getData watch on a missing node is not set (NoNode) and never fires', async () => {
    const p = uniquePath('w-none');
    const log = new EventLog();
    expect((await keeperError(zk.getData(p, log.watcher))).code).toBe(ErrorCode.NONODE);
    await writer.create(p, null);
    await zk.sync(p);
    await sleep(200);
    expect(log.nodeEvents).toEqual([]);
  });

  test('the event is delivered before the data of a later read (watch ordering)', async () => {
    const p = uniquePath('w-order');
    await writer.create(p, Buffer.from('old'));
    const order: string[] = [];
    await zk.getData(p, (e) => {
      order.push(`event:${e.type}`);
    });
    await writer.setData(p, Buffer.from('new'), -1);
    // The server sends the notification before the reply to this read.
    const { data } = await zk.getData(p);
    order.push(`data:${data!.toString()}`);
    expect(order).toEqual([`event:${EventType.NodeDataChanged}`, 'data:new']);
  });

  test('a handler that returns a promise is awaited before the next event', async () => {
    const p = uniquePath('w-serial');
    await writer.create(p, null);
    const seen: string[] = [];
    await zk.addWatch(p, async (e) => {
      seen.push(`start ${e.type}`);
      await sleep(150);
      seen.push(`end ${e.type}`);
    }, AddWatchMode.PERSISTENT);
    await writer.setData(p, Buffer.from('1'), -1);
    await writer.delete(p);
    for (let i = 0; i < 40 && seen.length < 4; i++) await sleep(50);
    expect(seen).toEqual([
      `start ${EventType.NodeDataChanged}`, `end ${EventType.NodeDataChanged}`,
      `start ${EventType.NodeDeleted}`, `end ${EventType.NodeDeleted}`,
    ]);
  });

  test('persistent watch fires on every change of the node and its children list, and stays', async () => {
    const p = uniquePath('w-persist');
    await writer.create(p, null);
    const log = new EventLog();
    await zk.addWatch(p, log.watcher, AddWatchMode.PERSISTENT);
    await writer.setData(p, Buffer.from('1'), -1);
    await writer.setData(p, Buffer.from('2'), -1);
    await writer.create(`${p}/c`, null);
    await writer.create(`${p}/c/grandchild`, null); // not a child of p: no event
    await writer.delete(`${p}/c/grandchild`);
    await writer.delete(`${p}/c`);
    await writer.delete(p);
    await writer.create(p, null);
    await log.next(() => log.nodeEvents.length >= 6);
    await zk.sync(p);
    await sleep(100);
    expect(log.nodeEvents.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDataChanged, p],
      [EventType.NodeDataChanged, p],
      [EventType.NodeChildrenChanged, p],
      [EventType.NodeChildrenChanged, p],
      [EventType.NodeDeleted, p],
      [EventType.NodeCreated, p],
    ]);
  });

  test('persistent-recursive watch sees the whole subtree and never NodeChildrenChanged', async () => {
    const p = uniquePath('w-rec');
    await writer.create(p, null);
    const log = new EventLog();
    await zk.addWatch(p, log.watcher, AddWatchMode.PERSISTENT_RECURSIVE);
    await writer.create(`${p}/a`, null);
    await writer.create(`${p}/a/b`, Buffer.from('x'));
    await writer.setData(`${p}/a/b`, Buffer.from('y'), -1);
    await writer.delete(`${p}/a/b`);
    await writer.create(`${p}/e`, null, { mode: CreateMode.EPHEMERAL });
    await log.next(() => log.nodeEvents.length >= 5);
    await zk.sync(p);
    await sleep(100);
    expect(log.nodeEvents.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeCreated, `${p}/a`],
      [EventType.NodeCreated, `${p}/a/b`],
      [EventType.NodeDataChanged, `${p}/a/b`],
      [EventType.NodeDeleted, `${p}/a/b`],
      [EventType.NodeCreated, `${p}/e`],
    ]);
    expect(log.events.some((e) => e.type === EventType.NodeChildrenChanged)).toBe(false);
  });

  test('checkWatches, removeWatches (one watcher) and removeAllWatches', async () => {
    const p = uniquePath('w-remove');
    await writer.create(p, null);
    const data = new EventLog();
    const child = new EventLog();
    await zk.getData(p, data.watcher);
    await zk.getChildren(p, child.watcher);
    await zk.checkWatches(p, WatcherType.Data);
    await zk.checkWatches(p, WatcherType.Children);
    await zk.checkWatches(p, WatcherType.Any);
    // No watch of any kind on another path: NoWatcher.
    expect((await keeperError(zk.checkWatches(`${p}-none`, WatcherType.Data))).code).toBe(ErrorCode.NOWATCHER);

    // One watcher: removed here (as the Java client does, the server is only asked to check).
    await zk.removeWatches(p, data.watcher, WatcherType.Data);
    await data.nextOf(EventType.DataWatchRemoved, p);
    // Removing it again: this client no longer has it.
    expect((await keeperError(zk.removeWatches(p, data.watcher, WatcherType.Data))).code).toBe(ErrorCode.NOWATCHER);

    // Every child watcher: removed on the server too.
    await zk.removeAllWatches(p, WatcherType.Children);
    await child.nextOf(EventType.ChildWatchRemoved, p);
    expect((await keeperError(zk.checkWatches(p, WatcherType.Children))).code).toBe(ErrorCode.NOWATCHER);

    await writer.setData(p, Buffer.from('x'), -1);
    await writer.create(`${p}/k`, null);
    await zk.sync(p);
    await sleep(150);
    expect(data.nodeEvents.map((e) => e.type)).toEqual([EventType.DataWatchRemoved]);
    expect(child.nodeEvents.map((e) => e.type)).toEqual([EventType.ChildWatchRemoved]);

    const persistent = new EventLog();
    await zk.addWatch(p, persistent.watcher, AddWatchMode.PERSISTENT_RECURSIVE);
    await zk.checkWatches(p, WatcherType.Any);
    await zk.removeWatches(p, persistent.watcher, WatcherType.Any);
    await persistent.nextOf(EventType.PersistentWatchRemoved, p);
    await writer.setData(p, Buffer.from('y'), -1);
    await writer.create(`${p}/k2`, null);
    await zk.sync(p);
    await sleep(150);
    expect(persistent.nodeEvents.map((e) => e.type)).toEqual([EventType.PersistentWatchRemoved]);
    expect((await keeperError(zk.removeWatches(p, persistent.watcher, WatcherType.Any))).code).toBe(ErrorCode.NOWATCHER);
  });
});
