/**
 * Proof of disk format, both ways, with data written through ordinary client
 * operations (never hand-built txns):
 * - Apache ZooKeeper 3.8 starts on a dataDir our server wrote and serves the
 *   same tree (every Stat field, data and ACL), with our live session's
 *   ephemeral re-attachable on Apache;
 * - our server starts on a dataDir Apache wrote (with Apache snapshotting
 *   every few txns, so its fuzzy snapshots are replayed over) and serves the
 *   same tree, with Apache's live session re-attachable on ours.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateMode, Ids, Op, type ZooKeeper } from '../../../src';
import { ACL, CreateRequest, CreateResponse, Id, OpCode } from '../../../src/proto';
import { ZooKeeperServer } from '../../../src/server';
import { readSnapshotFile } from '../../../src/server/persist/snapshot-file';
import { apacheAvailable, startApache } from './apache-reference';
import { RawClient, decode } from './raw-client';
import { connectClient, dumpTree } from './tree-dump';

jest.setTimeout(90_000);

const AUTH = { scheme: 'digest', auth: 'alice:secret' };

/** The same client workload for both directions: sequential nodes, ACLs, a multi, deletes, many versions. */
async function writeWorkload(zk: ZooKeeper): Promise<void> {
  await zk.create('/app', 'config-v1');
  await zk.create('/app/jobs', null);
  for (let i = 0; i < 6; i++) await zk.create('/app/jobs/job-', `job ${i}`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  await zk.delete('/app/jobs/job-0000000002');
  for (let i = 0; i < 12; i++) await zk.setData('/app', `config-v${i + 2}`);
  // ACLs: a creator-only node (digest of alice), a read-only node, an ip ACL changed by setACL.
  await zk.create('/secure', 'alice only', { acl: [...Ids.CREATOR_ALL_ACL] });
  await zk.create('/public', 'read only', { acl: [...Ids.READ_ACL_UNSAFE] });
  await zk.create('/byip', 'ip');
  await zk.setACL('/byip', [new ACL({ perms: 31, id: new Id({ scheme: 'ip', id: '127.0.0.1' }) }), new ACL({ perms: 1, id: new Id({ scheme: 'world', id: 'anyone' }) })]);
  await zk.multi([
    Op.create('/app/multi', 'm'),
    Op.create('/app/multi/child', Buffer.from([0, 1, 2, 255])),
    Op.setData('/app/jobs', 'touched by multi'),
    Op.delete('/app/jobs/job-0000000000'),
  ]);
  await zk.create('/app/empty', null);
  await zk.setData('/app/empty', Buffer.alloc(0));
}

/** A live session (never closed: its socket is just dropped) that owns two ephemerals, one sequential. */
async function liveSession(port: number): Promise<{ id: bigint; passwd: Buffer; paths: string[] }> {
  const c = await RawClient.connect(port, { timeOut: 30_000 });
  const paths: string[] = [];
  for (const [p, flags] of [
    ['/app/lock', CreateMode.EPHEMERAL],
    ['/app/member-', CreateMode.EPHEMERAL_SEQUENTIAL],
  ] as const) {
    const r = await c.call(OpCode.create, new CreateRequest({ path: p, data: Buffer.from('held'), acl: Ids.OPEN_ACL_UNSAFE, flags }));
    expect(r.header.err).toBe(0);
    paths.push(decode(CreateResponse, r.body).path);
  }
  const out = { id: c.connectResponse!.sessionId, passwd: c.connectResponse!.passwd!, paths };
  c.close();
  return out;
}

/** Re-attaches the live session and checks it still owns its ephemerals. */
async function expectSessionBack(connectString: string, s: { id: bigint; passwd: Buffer; paths: string[] }): Promise<void> {
  const back = await connectClient(connectString, { sessionId: s.id, sessionPassword: s.passwd });
  try {
    expect(back.sessionId).toBe(s.id);
    for (const p of s.paths) expect((await back.exists(p))!.ephemeralOwner).toBe(s.id);
    expect((await back.getEphemerals('/')).sort()).toEqual([...s.paths].sort());
  } finally {
    await back.close();
  }
}

const maybe = apacheAvailable() ? it : it.skip;

describe('dataDir compatibility with Apache ZooKeeper 3.8', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  maybe('Apache serves the tree our server wrote, and our live session re-attaches on Apache', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ours-for-apache-'));
    dirs.push(dataDir);
    // snapCount 8: snapshots and log rolls happen in the middle of the workload.
    const ours = await ZooKeeperServer.start({ dataDir, clientPort: 0, tickTime: 2000, snapCount: 8 });
    let expected;
    let session;
    try {
      const zk = await connectClient(ours.connectString, { authInfo: [AUTH] });
      await writeWorkload(zk);
      session = await liveSession(ours.clientPort);
      expected = await dumpTree(zk);
      await zk.close();
      expect(ours.durabilityStats().snapshotsTaken).toBeGreaterThan(1);
    } finally {
      await ours.close();
    }
    const apache = await startApache({ dataDir, tickTime: 2000 });
    try {
      const zk = await connectClient(`127.0.0.1:${apache.port}`, { authInfo: [AUTH] });
      expect(await dumpTree(zk)).toEqual(expected);
      await zk.close();
      await expectSessionBack(`127.0.0.1:${apache.port}`, session!);
    } finally {
      await apache.stop();
    }
  });

  maybe('Apache serves the tree our server wrote through a fuzzy snapshot (writes during the walk, no digest in the file)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-fuzzy-for-apache-'));
    dirs.push(dataDir);
    const ours = await ZooKeeperServer.start({ dataDir, clientPort: 0, tickTime: 2000 });
    let expected;
    let bulk;
    let snapFile = '';
    try {
      const zk = await connectClient(ours.connectString);
      await zk.create('/bulk', null);
      await zk.create('/live', 'l');
      for (let b = 0; b < 40; b++) await zk.multi(Array.from({ length: 500 }, (_, i) => Op.create(`/bulk/n${b * 500 + i}`, `v${i}`)));
      for (let i = 0; i < 20; i++) await zk.create(`/live/c${i}`, `c${i}`);
      // Writes pipelined while the snapshot walks the 20k-node tree: creates, deletes, setData on both subtrees.
      const snap = ours.takeSnapshot();
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        writes.push(zk.setData(`/bulk/n${(i * 97) % 20000}`, `w${i}`));
        if (i < 20) writes.push(zk.delete(`/live/c${i}`));
        writes.push(zk.create(`/live/n${i}`, `n${i}`));
        if (i % 10 === 0) writes.push(zk.create(`/bulk/late${i}`, null));
      }
      await Promise.all(writes);
      await snap;
      await zk.setData('/live', 'after');
      expected = await dumpTree(zk, '/live');
      bulk = { children: (await zk.getChildren('/bulk')).length, stat: String(JSON.stringify(await zk.exists('/bulk'), (_k, v) => (typeof v === 'bigint' ? String(v) : v))) };
      const stats = ours.durabilityStats();
      snapFile = path.join(dataDir, 'version-2', `snapshot.${stats.lastSnapshotZxid.toString(16)}`);
      await zk.close();
    } finally {
      await ours.close();
    }
    // The snapshot saw writes while it was written: no digest after its first seal.
    expect((await readSnapshotFile(snapFile)).digest).toBeNull();
    const apache = await startApache({ dataDir, tickTime: 2000 });
    try {
      const zk = await connectClient(`127.0.0.1:${apache.port}`);
      expect(await dumpTree(zk, '/live')).toEqual(expected);
      expect({ children: (await zk.getChildren('/bulk')).length, stat: String(JSON.stringify(await zk.exists('/bulk'), (_k, v) => (typeof v === 'bigint' ? String(v) : v))) }).toEqual(bulk);
      expect((await zk.getData('/bulk/n97')).data?.toString()).toBe('w1');
      await zk.close();
    } finally {
      await apache.stop();
    }
  });

  maybe('our server serves the tree Apache wrote (fuzzy snapshots included), and Apache\'s live session re-attaches on ours', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-apache-for-ours-'));
    dirs.push(dataDir);
    // zookeeper.snapCount=4: Apache snapshots (fuzzily, in a background thread) every 2-4 txns.
    const apache = await startApache({ dataDir, tickTime: 2000, sysProps: { 'zookeeper.snapCount': '4' } });
    let expected;
    let session;
    try {
      const zk = await connectClient(`127.0.0.1:${apache.port}`, { authInfo: [AUTH] });
      await writeWorkload(zk);
      session = await liveSession(apache.port);
      expected = await dumpTree(zk);
      await zk.close();
    } finally {
      // kill -9: Apache acknowledged every write after its fsync, so nothing is lost.
      await apache.stop();
    }
    const snapshots = fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.'));
    expect(snapshots.length).toBeGreaterThan(2);
    const ours = await ZooKeeperServer.start({ dataDir, clientPort: 0, tickTime: 2000 });
    try {
      const zk = await connectClient(ours.connectString, { authInfo: [AUTH] });
      expect(await dumpTree(zk)).toEqual(expected);
      await zk.close();
      await expectSessionBack(ours.connectString, session!);
    } finally {
      await ours.close();
    }
  });
});
