/**
 * zookeeper-ts/testing under vitest: a LeaderLatch whose session is
 * expired (Curator's KillSession way) hands leadership to the other one.
 *
 * In your project: import from 'zookeeper-ts', 'zookeeper-ts/testing' and
 * 'zookeeper-ts/recipes', and run `npx vitest run`. Here the imports are
 * the repository's sources; test/testing/examples.test.ts runs
 *   npx vitest run examples/testing/vitest.test.ts
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ZooKeeper } from '../../src';
import { TestingServer, waitFor } from '../../src/testing';
import { LeaderLatch } from '../../recipes';

let server: TestingServer;

beforeAll(async () => {
  server = await TestingServer.start();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

test('an expired leader gives way', async () => {
  const [a, b] = [new ZooKeeper(server.connectString), new ZooKeeper(server.connectString)];
  try {
    await Promise.all([a.connected(), b.connected()]);
    const first = new LeaderLatch(a, '/example/vitest-latch', { id: 'a' });
    const second = new LeaderLatch(b, '/example/vitest-latch', { id: 'b' });
    await first.start();
    await first.await({ timeout: 10_000 });
    await second.start();
    await server.expireSession(a); // resolves once `a` reports Expired
    await second.await({ timeout: 10_000 });
    await waitFor('the old leader to step down', async () => !first.hasLeadership(), 5000);
    expect(second.hasLeadership()).toBe(true);
    await Promise.all([first.close().catch(() => undefined), second.close()]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 60_000);
