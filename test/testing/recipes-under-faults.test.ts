/**
 * The recipes under faults staged with zookeeper-ts/testing, as a user of
 * the kit would test their own code:
 * - a Mutex held by a client whose session is expired: the holder is told
 *   ('lost') and a waiting client acquires;
 * - a LeaderLatch whose leader's server is killed (its client knows only
 *   that server): another participant takes over once the session ends,
 *   and exactly one participant leads afterwards, also once the server is
 *   back;
 * - a Mutex hold kept through a dropped connection (same session).
 */
import { ZooKeeper } from '../../src';
import { StateLog, TestingCluster, waitFor } from '../../src/testing';
import { LeaderLatch, Mutex } from '../../recipes';

jest.setTimeout(60_000);

let cluster: TestingCluster;
const clients: ZooKeeper[] = [];

async function connect(connectString: string, sessionTimeout = 10_000): Promise<ZooKeeper> {
  const zk = new ZooKeeper(connectString, { sessionTimeout });
  zk.on('error', () => undefined);
  clients.push(zk);
  await zk.connected();
  return zk;
}

beforeAll(async () => {
  cluster = await TestingCluster.start({ voters: 3 });
});

afterAll(async () => {
  await Promise.all(clients.map((zk) => zk.close().catch(() => undefined)));
  await cluster?.close();
});

test('a Mutex whose holder session is expired: the holder hears "lost", the waiter acquires', async () => {
  const [a, b] = [await connect(cluster.connectString), await connect(cluster.connectString)];
  const held = new Mutex(a, '/recipes/mutex');
  await held.acquire({ timeout: 10_000 });
  const lost = new Promise<void>((resolve) => held.once('lost', () => resolve()));
  const waiting = new Mutex(b, '/recipes/mutex').acquire({ timeout: 30_000 });
  expect(await Promise.race([waiting.then(() => 'acquired'), new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe('waiting');
  await cluster.expireSession(a);
  const hold = await waiting;
  await lost;
  await hold.release();
});

test("a LeaderLatch whose leader's server is killed: another takes over, and exactly one leads afterwards", async () => {
  // Each participant's client knows only its own member, so the killed member's client cannot move.
  const latches = await Promise.all(cluster.members.map(async (m) => {
    const zk = await connect(m.connectString, 4000);
    const latch = new LeaderLatch(zk, '/recipes/latch', { id: `via-${m.id}` });
    return { member: m, zk, latch };
  }));
  for (const p of latches) await p.latch.start();
  const leadersNow = () => latches.filter((p) => p.latch.hasLeadership());
  const [first] = await waitFor('one leader', async () => (leadersNow().length === 1 ? leadersNow() : undefined), 10_000);
  const states = new StateLog(first.zk);
  await first.member.kill();
  await states.waitFor('Disconnected', 10_000);
  // Its session ends on the survivors after the session timeout; its latch node goes with it.
  const [next] = await waitFor('another leader', async () => {
    const l = leadersNow();
    return l.length === 1 && l[0] !== first ? l : undefined;
  }, 30_000);
  expect(first.latch.hasLeadership()).toBe(false);
  await first.member.start();
  await states.waitFor('Expired', 20_000);
  // Settled: exactly the same one leads over a second of watching.
  for (let i = 0; i < 10; i++) {
    expect(leadersNow()).toEqual([next]);
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(latches.map((p) => p.latch.close().catch(() => undefined)));
});

test('a Mutex hold survives a dropped connection (same session), and stays exclusive', async () => {
  const [a, b] = [await connect(cluster.connectString), await connect(cluster.connectString)];
  const mutex = new Mutex(a, '/recipes/mutex-drop');
  const hold = await mutex.acquire({ timeout: 10_000 });
  const events: string[] = [];
  mutex.on('suspended', () => events.push('suspended'));
  mutex.on('reconnected', () => events.push('reconnected'));
  await cluster.dropConnection(a);
  await waitFor('the hold to be reconnected', async () => events.includes('reconnected'), 10_000);
  expect(events).toEqual(['suspended', 'reconnected']);
  expect(await new Mutex(b, '/recipes/mutex-drop').tryAcquire({ timeout: 500 })).toBeNull();
  await hold.release();
});
