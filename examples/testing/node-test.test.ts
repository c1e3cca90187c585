/**
 * zookeeper-ts/testing under node's own test runner: a standalone server
 * killed (kill -9) and started again under a connected client.
 *
 * In your project: import from 'zookeeper-ts' and 'zookeeper-ts/testing',
 * and run `node --test` (with a TypeScript loader for .ts files, e.g.
 * `node --require ts-node/register --test test/*.test.ts`). Here the imports
 * are the repository's sources; test/testing/examples.test.ts runs
 *   node --require ts-node/register/transpile-only --test examples/testing/node-test.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeper } from '../../src';
import { StateLog, TestingServer } from '../../src/testing';

let server: TestingServer;

before(async () => {
  server = await TestingServer.start();
});

after(async () => {
  await server.close();
});

test('the client rides out a kill -9 and restart of its server', async () => {
  const zk = new ZooKeeper(server.connectString, { sessionTimeout: 10_000 });
  try {
    await zk.connected();
    await zk.create('/survivor', 'still here');
    const states = new StateLog(zk);
    const session = zk.sessionId;
    await server.kill();
    await states.waitFor('Disconnected', 10_000);
    await server.start(); // same port and data directory
    await states.waitFor('SyncConnected', 20_000);
    assert.equal(zk.sessionId, session);
    assert.equal(String((await zk.getData('/survivor')).data), 'still here');
  } finally {
    await zk.close();
  }
});
