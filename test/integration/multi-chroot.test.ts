/**
 * multi (all-or-nothing, with Apache's per-op failure results), multiRead,
 * and chroot handling of every path that goes in or comes out.
 */
import { Cluster, startTarget, targets } from '../harness';
import { AddWatchMode, CreateMode, ErrorCode, EventType, KeeperError, Op, ZooKeeper } from '../../src';
import { Clients, START_TIMEOUT, EventLog, keeperError, uniquePath } from './client-fixtures';

describe.each(targets())('multi and chroot on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, {});
    zk = await clients.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('multi applies every op and returns per-op results', async () => {
    const p = uniquePath('multi');
    await zk.create(p, Buffer.from('0'));
    await zk.create(`${p}/gone`, null);
    const results = await zk.multi([
      Op.check(p, 0),
      Op.setData(p, Buffer.from('1'), 0),
      Op.create(`${p}/new`, Buffer.from('n')),
      Op.create(`${p}/seq-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
      Op.delete(`${p}/gone`, -1),
    ]);
    expect(results.map((r) => r.type)).toEqual(['check', 'setData', 'create', 'create', 'delete']);
    expect((results[1] as { stat: { version: number } }).stat.version).toBe(1);
    expect((results[2] as { path: string }).path).toBe(`${p}/new`);
    expect((results[3] as { path: string }).path).toBe(`${p}/seq-0000000002`);
    expect((await zk.getData(p)).data!.toString()).toBe('1');
    expect((await zk.getChildren(p)).sort()).toEqual(['new', 'seq-0000000002']);
  });

  test('a failing multi changes nothing and reports ok=0, failing op its code, later ops -2', async () => {
    const p = uniquePath('multifail');
    await zk.create(p, Buffer.from('0'));
    const err = await keeperError(zk.multi([
      Op.create(`${p}/a`, null),
      Op.setData(p, Buffer.from('x'), -1),
      Op.delete(`${p}/missing`),
      Op.create(`${p}/b`, null),
    ]));
    expect(err).toBeInstanceOf(KeeperError);
    expect(err.code).toBe(ErrorCode.NONODE);
    expect(err.opIndex).toBe(2);
    expect(err.message).toMatch(/missing/);
    const codes = (err.results as Array<{ type: string; err: number }>).map((r) => [r.type, r.err]);
    expect(codes).toEqual([
      ['error', 0],
      ['error', 0],
      ['error', ErrorCode.NONODE],
      ['error', ErrorCode.RUNTIMEINCONSISTENCY],
    ]);
    expect(await zk.exists(`${p}/a`)).toBeNull();
    expect((await zk.getData(p)).data!.toString()).toBe('0');

    const bv = await keeperError(zk.multi([Op.check(p, 5), Op.delete(p)]));
    expect(bv.code).toBe(ErrorCode.BADVERSION);
    expect(bv.opIndex).toBe(0);
    expect(await zk.exists(p)).not.toBeNull();

    const ne = await keeperError(zk.multi([Op.create(`${p}/x`, null), Op.create(`${p}/x`, null)]));
    expect(ne.code).toBe(ErrorCode.NODEEXISTS);
    expect(ne.opIndex).toBe(1);
  });

  test('multi refuses a bad path in any op before sending', async () => {
    const err = await keeperError(Promise.resolve().then(() => zk.multi([Op.create('/ok-' + Date.now(), null), Op.delete('/a//b')])));
    expect(err.code).toBe(ErrorCode.BADARGUMENTS);
  });

  test('empty multi succeeds with no results', async () => {
    expect(await zk.multi([])).toEqual([]);
  });

  test('multiRead returns data and children per op, with per-op errors', async () => {
    const p = uniquePath('mread');
    await zk.create(p, Buffer.from('root'));
    await zk.create(`${p}/k1`, Buffer.from('one'));
    const results = await zk.multiRead([
      Op.getData(p),
      Op.getChildren(p),
      Op.getData(`${p}/missing`),
      Op.getData(`${p}/k1`),
    ]);
    expect(results).toHaveLength(4);
    const r0 = results[0] as { type: string; data: Buffer; stat: { numChildren: number } };
    expect(r0.type).toBe('getData');
    expect(r0.data.toString()).toBe('root');
    expect(r0.stat.numChildren).toBe(1);
    expect(results[1]).toEqual(expect.objectContaining({ type: 'getChildren', children: ['k1'] }));
    expect(results[2]).toEqual(expect.objectContaining({ type: 'error', err: ErrorCode.NONODE }));
    expect((results[3] as { data: Buffer }).data.toString()).toBe('one');
  });

  describe('chroot', () => {
    let root: string;
    let rooted: ZooKeeper;
    beforeAll(async () => {
      root = uniquePath('chroot');
      await zk.create(root, null);
      rooted = await clients.connect(`${cluster.connectString}${root}`);
    });

    test('paths in and out are relative to the chroot', async () => {
      expect(await rooted.create('/a', Buffer.from('x'))).toBe('/a');
      expect(await zk.exists(`${root}/a`)).not.toBeNull();
      const seq = await rooted.create('/s-', null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      expect(seq).toMatch(/^\/s-\d{10}$/);
      expect((await rooted.create2('/b', null)).path).toBe('/b');
      expect((await rooted.getChildren('/')).sort()).toEqual(['a', 'b', seq.slice(1)].sort());
      expect((await rooted.getData('/a')).data!.toString()).toBe('x');
      expect(await rooted.getEphemerals('/')).toEqual([seq]);
      const results = await rooted.multi([Op.create('/m', null), Op.create('/m/n-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })]);
      expect((results[0] as { path: string }).path).toBe('/m');
      expect((results[1] as { path: string }).path).toBe('/m/n-0000000000');
      const err = await keeperError(rooted.delete('/nope'));
      expect(err.path).toBe('/nope');
      expect(await rooted.exists('/')).not.toBeNull();
    });

    test('events carry chroot-relative paths', async () => {
      const one = new EventLog();
      const rec = new EventLog();
      await rooted.exists('/ev', one.watcher);
      await rooted.addWatch('/', rec.watcher, AddWatchMode.PERSISTENT_RECURSIVE);
      await zk.create(`${root}/ev`, null);
      expect((await one.nextOf(EventType.NodeCreated, '/ev')).path).toBe('/ev');
      await rec.nextOf(EventType.NodeCreated, '/ev');
      await zk.setData(root, Buffer.from('r'), -1);
      await rec.nextOf(EventType.NodeDataChanged, '/');
      await rooted.removeWatches('/', rec.watcher, 3 /* Any */);
    });
  });
});
