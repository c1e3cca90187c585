/**
 * Watch a configuration node with NodeCache: the program keeps a live copy
 * of /config-watch-demo-<random>/app.json and prints it each time it changes.
 *
 *   ZK_CONNECT=127.0.0.1:2181 npx ts-node examples/config-watch.ts
 *   npx ts-node examples/config-watch.ts      # no ZK_CONNECT: starts an embedded server
 *
 * In an application the imports are 'zookeeper-ts', 'zookeeper-ts/recipes'
 * and 'zookeeper-ts/server'.
 */
import { randomBytes } from 'crypto';
import { ZooKeeper } from '../src';
import { NodeCache } from '../recipes/cache';
import type { ChildData } from '../recipes/cache';
import { deleteRecursive } from '../recipes/util';
import { ZooKeeperServer } from '../src/server';

async function main(): Promise<void> {
  // A server: the one in ZK_CONNECT, or an in-memory one of our own.
  const embedded = process.env.ZK_CONNECT ? null : await ZooKeeperServer.start({ clientPort: 0 });
  const connect = process.env.ZK_CONNECT ?? embedded!.connectString;
  const base = `/config-watch-demo-${randomBytes(3).toString('hex')}`;
  const path = `${base}/app.json`;

  // The handle factory lets the cache carry on in a new session should this one expire.
  const handles: ZooKeeper[] = [];
  const open = (): ZooKeeper => {
    const zk = new ZooKeeper(connect, { sessionTimeout: 10_000 });
    handles.push(zk);
    return zk;
  };
  const admin = open();
  await admin.connected();

  const config = new NodeCache(open, path);
  let updates = 0;
  let wake: (() => void) | null = null;
  config.on('change', (node: ChildData | null) => {
    updates++;
    console.log(`config changed: ${node?.data?.toString() ?? '(deleted)'}`);
    wake?.();
  });
  const nextChange = (): Promise<void> => new Promise((resolve) => (wake = resolve));

  await config.start();
  console.log(`watching ${path} (${config.mode} watch); now: ${config.getCurrentData()?.data?.toString() ?? '(none)'}`);

  // Somebody (here: the same program) publishes configuration versions.
  for (const version of [1, 2, 3]) {
    const seen = nextChange();
    const body = JSON.stringify({ version, featureX: version >= 2 });
    if (version === 1) await admin.create(base, null).then(() => admin.create(path, body));
    else await admin.setData(path, body);
    await seen;
  }
  const final = JSON.parse(config.getCurrentData()!.data!.toString()) as { version: number };
  console.log(`final config version ${final.version} after ${updates} changes`);

  await config.close();
  await deleteRecursive(admin, base);
  await Promise.all(handles.map((h) => h.close()));
  await embedded?.close();
  if (final.version !== 3 || updates !== 3) throw new Error('the cache missed a change');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
