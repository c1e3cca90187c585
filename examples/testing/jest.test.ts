/**
 * zookeeper-ts/testing under jest: a 3-voter ensemble for the file, and a
 * lock that must stay exclusive while the leader is killed.
 *
 * In your project (jest with ts-jest or babel):
 *   import { ZooKeeper } from 'zookeeper-ts';
 *   import { TestingCluster } from 'zookeeper-ts/testing';
 *   import { Mutex } from 'zookeeper-ts/recipes';
 * Here the imports are the repository's sources; test/testing/examples.test.ts runs this file.
 */
import { ZooKeeper } from '../../src';
import { TestingCluster } from '../../src/testing';
import { Mutex } from '../../recipes';

let cluster: TestingCluster;

beforeAll(async () => {
  cluster = await TestingCluster.start({ voters: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.close(); // kills the members, removes their temp directories
});

test('a Mutex hold survives the leader being killed', async () => {
  const zk = new ZooKeeper(cluster.connectString, { sessionTimeout: 10_000 });
  try {
    await zk.connected();
    const hold = await new Mutex(zk, '/example/jest-lock').acquire({ timeout: 10_000 });
    const old = await cluster.kill('leader'); // kill -9
    const leader = await cluster.waitForLeader();
    expect(leader.id).not.toBe(old.id);
    await cluster.waitForState(zk, 'SyncConnected', 20_000);
    await hold.release(); // same session: the lock was never lost
    await old.start();
  } finally {
    await zk.close();
  }
}, 60_000);
