/** Snapshots through FileTxnStore: round trip, atomic writes, skipping damaged files, compression, non-blocking. */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ACL, Id } from '../../../src/proto';
import { PersistError, UnsupportedSnapshotCompressionError } from '../../../src/server/persist/errors';
import { treeDigest } from '../../../src/server/persist/digest';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import type { SnapshotNode } from '../../../src/server/persist/types';
import { createEntries, initialContents, initialNodes, plain, rmDir, stat, tempDir } from './persist-helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir('zk-persist-snap-');
});
afterEach(() => rmDir(dir));

const v2 = (): string => path.join(dir, 'version-2');
const names = (): string[] => fs.readdirSync(v2()).sort();

async function store(): Promise<FileTxnStore> {
  const s = new FileTxnStore({ dataDir: dir, preAllocSize: 4096, fsync: false });
  await s.load();
  return s;
}

function richTree(): { sessions: Map<bigint, number>; acls: Map<bigint, ACL[]>; nodes: SnapshotNode[] } {
  const nodes = initialNodes();
  nodes[0].stat = stat({ cversion: 2, pzxid: 3n });
  nodes.push(
    { path: '/null-data', data: null, aclRef: 2n, stat: stat({ czxid: 2n, mzxid: 2n, pzxid: 2n }) },
    { path: '/ünïcode-😀', data: Buffer.from([0, 1, 2, 255]), aclRef: 3n, stat: stat({ czxid: 3n, mzxid: 3n, pzxid: 3n, ephemeralOwner: -5n }) },
  );
  return {
    sessions: new Map([
      [0x100000000000001n, 30000],
      [-2n, 4000],
    ]),
    acls: new Map([
      [1n, [new ACL({ perms: 1, id: new Id({ scheme: 'world', id: 'anyone' }) })]],
      [2n, [new ACL({ perms: 31, id: new Id({ scheme: 'world', id: 'anyone' }) })]],
      [3n, [new ACL({ perms: 3, id: new Id({ scheme: 'digest', id: 'u:abc=' }) }), new ACL({ perms: 1, id: new Id({ scheme: 'ip', id: '127.0.0.1' }) })]],
    ]),
    nodes,
  };
}

test('a snapshot round-trips sessions, ACLs and nodes (null data, non-BMP path), with its digest', async () => {
  const s = await store();
  const tree = richTree();
  await s.snapshot(3n, tree);
  await s.close();
  expect(names()).toEqual(['snapshot.3']);
  const back = await store();
  const st = await back.load();
  expect(st.snapshot!.zxid).toBe(3n);
  expect(plain([...st.snapshot!.sessions])).toEqual(plain([...tree.sessions]));
  expect(plain([...st.snapshot!.acls])).toEqual(plain([...tree.acls]));
  expect(plain(st.snapshot!.nodes)).toEqual(plain(tree.nodes));
  expect([...st.snapshot!.nodes][4].data).toBeNull();
  expect(st.snapshot!.digest).toEqual({ zxid: 3n, version: 2, digest: treeDigest(tree.nodes) });
  expect(st.lastZxid).toBe(3n);
  await back.close();
});

test('the root may be given as "/" and is written as "" like Apache', async () => {
  const s = await store();
  const c = initialContents();
  c.nodes[0].path = '/';
  await s.snapshot(0n, c);
  const st = await s.load();
  expect([...st.snapshot!.nodes][0].path).toBe('');
  await s.close();
});

test('nodes out of order are refused and leave no file behind', async () => {
  const s = await store();
  const c = initialContents();
  c.nodes.push({ path: '/x/y', data: null, aclRef: -1n, stat: stat({}) });
  await expect(s.snapshot(5n, c)).rejects.toBeInstanceOf(PersistError);
  const noRoot = initialContents();
  noRoot.nodes.shift();
  await expect(s.snapshot(6n, noRoot)).rejects.toThrow(/root/);
  expect(names()).toEqual([]);
  await s.close();
});

test('a damaged newest snapshot is skipped; replay starts from the older one', async () => {
  const s = await store();
  await s.snapshot(0n, initialContents());
  await s.append(createEntries(1n, 3));
  await s.snapshot(3n, richTree());
  await s.append(createEntries(4n, 2));
  await s.close();
  const f = path.join(v2(), 'snapshot.3');
  const bytes = fs.readFileSync(f);
  bytes[40] ^= 0x10;
  fs.writeFileSync(f, bytes);
  const back = await store();
  const st = await back.load();
  expect(st.snapshot!.zxid).toBe(0n);
  expect(st.txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n, 4n, 5n]);
  expect(back.lastLoadReport!.skippedSnapshots[0]).toMatchObject({ file: 'snapshot.3' });
  expect(back.lastLoadReport!.skippedSnapshots[0].reason).toMatch(/checksum|corrupt|bad/i);
  await back.close();
});

test('an incomplete snapshot (crash mid-write without the temp-file dance) is skipped; leftover temp files are removed', async () => {
  const s = await store();
  await s.snapshot(0n, initialContents());
  await s.snapshot(7n, richTree());
  await s.close();
  const f = path.join(v2(), 'snapshot.7');
  fs.truncateSync(f, fs.statSync(f).size - 3);
  fs.writeFileSync(path.join(v2(), 'tmp.snapshot.9.123.abc'), 'partial');
  const back = await store();
  const st = await back.load();
  expect(st.snapshot!.zxid).toBe(0n);
  expect(names()).toEqual(['snapshot.0', 'snapshot.7']);
  await back.close();
});

test('gzip snapshots (zookeeper.snapshot.compression.method=gz) are read; snappy gives a clear error', async () => {
  const s = await store();
  await s.snapshot(3n, richTree());
  await s.close();
  const plainFile = path.join(v2(), 'snapshot.3');
  fs.writeFileSync(path.join(v2(), 'snapshot.4.gz'), zlib.gzipSync(fs.readFileSync(plainFile)));
  const back = await store();
  const st = await back.load();
  expect(back.lastLoadReport!.snapshotFile).toBe('snapshot.4.gz');
  expect([...st.snapshot!.nodes]).toHaveLength(6);
  await back.close();
  fs.writeFileSync(path.join(v2(), 'snapshot.5.snappy'), Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]));
  await expect(new FileTxnStore({ dataDir: dir, fsync: false }).load()).rejects.toBeInstanceOf(UnsupportedSnapshotCompressionError);
});

test('writing a large snapshot does not hold up appends', async () => {
  const s = new FileTxnStore({ dataDir: dir, preAllocSize: 1 << 20, fsync: true });
  await s.load();
  await s.snapshot(0n, initialContents());
  const nodes = initialNodes();
  for (let i = 0; i < 40_000; i++) nodes.push({ path: `/n${i}`, data: Buffer.alloc(100, i & 0xff), aclRef: -1n, stat: stat({ czxid: 1n, mzxid: 1n }) });
  let snapshotDone = false;
  const snap = s.snapshot(1n, { sessions: new Map(), acls: new Map(), nodes }).then(() => {
    snapshotDone = true;
  });
  let beforeSnapshotDone = 0;
  for (const e of createEntries(2n, 20)) {
    await s.append([e]);
    if (!snapshotDone) beforeSnapshotDone++;
  }
  await snap;
  expect(beforeSnapshotDone).toBeGreaterThan(0);
  await s.close();
  const back = await store();
  const st = await back.load();
  expect([...st.snapshot!.nodes]).toHaveLength(40_004);
  expect(st.txns).toHaveLength(20);
  await back.close();
});

describe('purge (PurgeTxnLog semantics)', () => {
  /** snapshots at 0,3,6,9,12 and logs log.1, log.4, log.7, log.a, log.d */
  async function fiveGenerations(): Promise<void> {
    const s = await store();
    await s.snapshot(0n, initialContents());
    for (let base = 1n; base <= 13n; base += 3n) {
      await s.append(createEntries(base, 3));
      if (base + 2n <= 12n) await s.snapshot(base + 2n, initialContents());
    }
    await s.close();
    expect(names()).toEqual(['log.1', 'log.4', 'log.7', 'log.a', 'log.d', 'snapshot.0', 'snapshot.3', 'snapshot.6', 'snapshot.9', 'snapshot.c']);
  }

  test('keeps the newest 3 snapshots and the logs from the one covering the oldest kept snapshot', async () => {
    await fiveGenerations();
    const s = await store();
    const res = await s.purgeWithReport(3);
    expect(res.retainedSnapshots).toEqual(['snapshot.c', 'snapshot.9', 'snapshot.6']);
    // log.4 (zxids 4..6) is the newest log starting at or before snapshot.6, so it stays.
    expect(names()).toEqual(['log.4', 'log.7', 'log.a', 'log.d', 'snapshot.6', 'snapshot.9', 'snapshot.c']);
    expect(res.deleted.sort()).toEqual(['log.1', 'snapshot.0', 'snapshot.3']);
    await s.close();
    const back = await store();
    const st = await back.load();
    expect(st.snapshot!.zxid).toBe(12n);
    expect(st.txns.map((t) => t.header.zxid)).toEqual([13n, 14n, 15n]);
    await back.close();
  });

  test('retain below 3 is raised to 3 (DatadirCleanupManager); invalid snapshots do not count', async () => {
    await fiveGenerations();
    fs.truncateSync(path.join(v2(), 'snapshot.c'), 5);
    const s = await store();
    await s.purge(1);
    expect(names()).toEqual(['log.1', 'log.4', 'log.7', 'log.a', 'log.d', 'snapshot.3', 'snapshot.6', 'snapshot.9', 'snapshot.c']);
    await s.close();
  });
});
