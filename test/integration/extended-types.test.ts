/**
 * TTL and container nodes, which need zookeeper.extendedTypesEnabled=true;
 * the server's reaper (every znode.container.checkIntervalMs, 1 s here)
 * removes expired TTL nodes and emptied containers.
 */
import { Cluster, startTarget, targetsWith } from '../harness';
import { CreateMode, ErrorCode, EventType, ZooKeeper } from '../../src';
import { Clients, describeEachTarget, START_TIMEOUT, EventLog, hex, keeperError, sleep, uniquePath } from './client-fixtures';

describeEachTarget(targetsWith('extendedTypes'), 'TTL and container nodes on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { extendedTypes: true, containerCheckIntervalMs: 500 });
    zk = await clients.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('a TTL node lives on while touched and is reaped once idle past its ttl', async () => {
    const p = uniquePath('ttl');
    expect(await zk.create(p, Buffer.from('t'), { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1500 })).toBe(p);
    const st = await zk.exists(p);
    expect(st).not.toBeNull();
    // The server keeps the TTL in ephemeralOwner internally but shows clients 0.
    expect(hex(st!.ephemeralOwner)).toBe('0x0');
    const log = new EventLog();
    await zk.exists(p, log.watcher);
    await log.nextOf(EventType.NodeDeleted, p, 10_000);
    expect(await zk.exists(p)).toBeNull();
  });

  test('a sequential TTL node gets a suffix; a TTL node with children is kept', async () => {
    const parent = uniquePath('ttlseq');
    await zk.create(parent, null);
    const s = await zk.create(`${parent}/n-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 1000 });
    expect(s).toBe(`${parent}/n-0000000000`);
    await zk.create(`${s}/child`, null);
    await sleep(2500);
    expect(await zk.exists(s)).not.toBeNull();
  });

  test('ttl must be positive and is refused for non-TTL modes', async () => {
    expect((await keeperError(Promise.resolve().then(() => zk.create(uniquePath('ttl0'), null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 0 })))).code)
      .toBe(ErrorCode.BADARGUMENTS);
  });

  test('a container is removed after its last child goes, not before it had one', async () => {
    const c = uniquePath('container');
    await zk.create(c, null, { mode: CreateMode.CONTAINER });
    await sleep(1500);
    expect(await zk.exists(c)).not.toBeNull(); // never had a child: kept
    await zk.create(`${c}/kid`, null);
    await zk.delete(`${c}/kid`);
    const log = new EventLog();
    await zk.exists(c, log.watcher);
    await log.nextOf(EventType.NodeDeleted, c, 10_000);
  });
});

describeEachTarget(targetsWith(), 'extended types disabled on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  beforeAll(async () => {
    cluster = await startTarget(kind, {});
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('TTL creates fail with Unimplemented', async () => {
    const zk = await clients.connect(cluster.connectString);
    const err = await keeperError(zk.create(uniquePath('nottl'), null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 }));
    expect(err.code).toBe(ErrorCode.UNIMPLEMENTED);
  });
});
