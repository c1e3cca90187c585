/**
 * A distributed lock in three lines: four workers (each its own session)
 * increment a counter node under a Mutex; with the lock no increment is
 * lost. Run: ZK_CONNECT=127.0.0.1:2181 npx ts-node examples/lock.ts
 * (without ZK_CONNECT an embedded in-memory server is started).
 */
import { ZooKeeper } from '../src';
import { ZooKeeperServer } from '../src/server';
import { deleteRecursive, mkdirs, Mutex } from '../recipes';

async function main(): Promise<void> {
  const server = process.env.ZK_CONNECT ? null : await ZooKeeperServer.start({ clientPort: 0 });
  const connect = process.env.ZK_CONNECT ?? server!.connectString;
  const base = `/examples/lock-${process.pid}`;
  const workers = await Promise.all([1, 2, 3, 4].map(async () => {
    const zk = new ZooKeeper(connect);
    await zk.connected();
    return zk;
  }));
  await mkdirs(workers[0], `${base}/counter`, { data: '0' });

  await Promise.all(
    workers.map(async (zk) => {
      const mutex = new Mutex(zk, `${base}/lock`);
      for (let i = 0; i < 5; i++) {
        await using hold = await mutex.acquire({ timeout: 30_000 });
        void hold;
        // Read-modify-write without a version: only safe because we hold the lock.
        const { data } = await zk.getData(`${base}/counter`);
        await zk.setData(`${base}/counter`, String(Number(data!.toString()) + 1));
      }
    }),
  );

  const { data } = await workers[0].getData(`${base}/counter`);
  console.log(`counter = ${data!.toString()} (expected 20)`);
  await deleteRecursive(workers[0], base);
  await Promise.all(workers.map((zk) => zk.close()));
  await server?.close();
  if (data!.toString() !== '20') process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
