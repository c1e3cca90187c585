/**
 * Leader election with a latch: three participants start; exactly one
 * leads; when it closes, the next takes over. Run:
 * ZK_CONNECT=127.0.0.1:2181 npx ts-node examples/leader.ts
 * (without ZK_CONNECT an embedded in-memory server is started).
 */
import { ZooKeeper } from '../src';
import { ZooKeeperServer } from '../src/server';
import { LeaderLatch } from '../recipes';

async function main(): Promise<void> {
  const server = process.env.ZK_CONNECT ? null : await ZooKeeperServer.start({ clientPort: 0 });
  const connect = process.env.ZK_CONNECT ?? server!.connectString;
  const path = `/examples/leader-${process.pid}`;
  const zks: ZooKeeper[] = [];
  const latches: LeaderLatch[] = [];
  for (const id of ['alpha', 'beta', 'gamma']) {
    const zk = new ZooKeeper(connect);
    await zk.connected();
    const latch = new LeaderLatch(zk, path, { id });
    latch.on('isLeader', () => console.log(`${id} is the leader`));
    latch.on('notLeader', () => console.log(`${id} stepped down`));
    await latch.start();
    zks.push(zk);
    latches.push(latch);
  }
  for (const latch of latches) {
    await latch.await({ timeout: 30_000 });
    const leaders = latches.filter((l) => l.hasLeadership()).map((l) => l.id);
    console.log(`leaders now: ${leaders.join(',')}`);
    if (leaders.length !== 1) process.exitCode = 1;
    await latch.close();
  }
  await Promise.all(zks.map((zk) => zk.close()));
  await server?.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
