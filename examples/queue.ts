/**
 * Work queues: a FIFO DistributedQueue shared by two competing consumers
 * (each job is taken exactly once), then a LockingQueue where a job that
 * fails is released and picked up again, and a finished one is acked.
 *
 *   ZK_CONNECT=127.0.0.1:2181 npx ts-node examples/queue.ts
 *   npx ts-node examples/queue.ts             # no ZK_CONNECT: starts an embedded server
 *
 * In an application the imports are 'zookeeper-ts', 'zookeeper-ts/recipes'
 * and 'zookeeper-ts/server'.
 */
import { randomBytes } from 'crypto';
import { ZooKeeper } from '../src';
import { DistributedQueue, LockingQueue } from '../recipes/queue';
import { deleteRecursive } from '../recipes/util';
import { ZooKeeperServer } from '../src/server';

const JOBS = 6;

async function main(): Promise<void> {
  const embedded = process.env.ZK_CONNECT ? null : await ZooKeeperServer.start({ clientPort: 0 });
  const connect = process.env.ZK_CONNECT ?? embedded!.connectString;
  const base = `/queue-demo-${randomBytes(3).toString('hex')}`;
  const [producerZk, workerA, workerB] = [0, 1, 2].map(() => new ZooKeeper(connect, { sessionTimeout: 10_000 }));
  await Promise.all([producerZk, workerA, workerB].map((zk) => zk.connected()));

  // 1. FIFO queue, two consumers competing for the jobs.
  const producer = new DistributedQueue(producerZk, `${base}/jobs`);
  for (let i = 1; i <= JOBS; i++) await producer.put(`job-${i}`);
  console.log(`queued ${await producer.size()} jobs`);
  const done: string[] = [];
  const work = async (name: string, zk: ZooKeeper): Promise<void> => {
    const q = new DistributedQueue(zk, `${base}/jobs`);
    for (;;) {
      const job = await q.take({ timeout: 500 }); // null once the queue stayed empty for 500 ms
      if (job === null) return;
      console.log(`${name} took ${job.toString()}`);
      done.push(job.toString());
    }
  };
  await Promise.all([work('worker A', workerA), work('worker B', workerB)]);
  const unique = new Set(done);
  console.log(`jobs done: ${done.length}, distinct: ${unique.size}`);

  // 2. Locking queue: take, fail and release; someone takes it again and acks.
  const tasks = new LockingQueue(producerZk, `${base}/tasks`);
  await tasks.put('resize image 42');
  const first = (await new LockingQueue(workerA, `${base}/tasks`).take({ timeout: 5000 }))!;
  console.log(`worker A holds "${first.data.toString()}", fails, releases it`);
  await first.release();
  const second = (await new LockingQueue(workerB, `${base}/tasks`).take({ timeout: 5000 }))!;
  console.log(`worker B holds "${second.data.toString()}", finishes, acks it`);
  await second.ack();
  const left = await tasks.size();
  console.log(`tasks left: ${left}`);

  await deleteRecursive(producerZk, base); // the jobs, the tasks and the tasks' locks (`${base}/tasks-locks`)
  await Promise.all([producerZk, workerA, workerB].map((zk) => zk.close()));
  await embedded?.close();
  if (done.length !== JOBS || unique.size !== JOBS || left !== 0) throw new Error('a job was lost or done twice');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
