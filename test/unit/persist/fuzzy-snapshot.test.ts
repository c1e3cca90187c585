/**
 * Fuzzy snapshots (src/server/tree/fuzzy-snapshot.ts): the live tree is
 * written in slices while txns keep being applied; the file + the log after
 * its zxid must give the live tree back, its digest must be true or absent,
 * and the event loop must keep turning while a big tree is written.
 */
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { encodeRecord, type Record } from '../../../src/jute';
import { CreateTxn, DeleteTxn, Ids, OpCode, SetDataTxn, TxnHeader } from '../../../src/proto';
import { decodeTxnBody } from '../../../src/server/persist/txn-codec';
import type { TxnEntry } from '../../../src/server/persist/types';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import { readSnapshotFile, writeSnapshotFile } from '../../../src/server/persist/snapshot-file';
import { DataTree } from '../../../src/server/tree/data-tree';
import { FuzzyTreeSnapshot, SnapshotAbortedError } from '../../../src/server/tree/fuzzy-snapshot';
import { liveDigest, replay, treeState, TxnDriver } from './fuzzy-helpers';
import { rmDir, tempDir } from './persist-helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir('zk-fuzzy-snap-');
});
afterEach(() => rmDir(dir));

/** Loads a snapshot file into a fresh tree and replays `log` after its zxid, as recovery does. */
async function recover(file: string, zxid: bigint, log: TxnDriver['log']): Promise<{ tree: DataTree; sessions: Map<bigint, number> }> {
  const snap = await readSnapshotFile(file);
  const tree = new DataTree();
  tree.loadSnapshot(snap, zxid);
  const sessions = new Map(snap.sessions);
  replay(tree, sessions, log, zxid);
  return { tree, sessions };
}

test('property: snapshot written while txns land between slices + the log after its zxid = the live tree', async () => {
  let fuzzyRuns = 0;
  let quietRuns = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 150 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 10 }),
      async (seed, before, sliceNodes, perPause, after) => {
        const live = new DataTree();
        const d = new TxnDriver(live, seed);
        for (let i = 0; i < before; i++) d.step();
        const snap = new FuzzyTreeSnapshot(live, d.sessions);
        const z0 = snap.zxid;
        const digestAtZ0 = liveDigest(live);
        const stateAtZ0 = treeState(live);
        const file = await writeSnapshotFile(dir, z0, snap, {
          fsync: false,
          sliceNodes,
          sliceMs: 1e9,
          pause: async () => {
            for (let i = 0; i < perPause; i++) d.step();
          },
        });
        for (let i = 0; i < after; i++) d.step();

        const read = await readSnapshotFile(file);
        const quiet = snap.stats.endZxid === z0;
        if (quiet) {
          quietRuns++;
          // No txn during the walk: the file is the tree at z0, digest included.
          expect(read.digest).toEqual({ zxid: z0, version: 2, digest: z0 === 0n ? 0n : digestAtZ0 });
          const atZ0 = new DataTree();
          atZ0.loadSnapshot(read, z0);
          expect(treeState(atZ0)).toEqual(stateAtZ0);
        } else {
          fuzzyRuns++;
          expect(read.digest).toBeNull();
        }
        const back = await recover(file, z0, d.log);
        expect(treeState(back.tree)).toEqual(treeState(live));
        expect(back.sessions).toEqual(d.sessions);
        fs.rmSync(file);
      },
    ),
    { numRuns: 300, seed: 20240611 },
  );
  // Both kinds were exercised.
  expect(fuzzyRuns).toBeGreaterThan(100);
  expect(quietRuns).toBeGreaterThan(10);
});

test('ACL lists new since the snapshot started never leave a node pointing at an ACL the file lacks', async () => {
  // Many distinct ACL lists: creates and setACLs during the walk mint new ACL references.
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
      const live = new DataTree();
      const d = new TxnDriver(live, seed, 400);
      for (let i = 0; i < 120; i++) d.step();
      const snap = new FuzzyTreeSnapshot(live, d.sessions);
      const file = await writeSnapshotFile(dir, snap.zxid, snap, { fsync: false, sliceNodes: 2, sliceMs: 1e9, pause: async () => void d.step() });
      const read = await readSnapshotFile(file);
      for (const n of read.nodes) if (n.aclRef !== -1n) expect(read.acls.has(n.aclRef)).toBe(true);
      const back = await recover(file, snap.zxid, d.log);
      expect(treeState(back.tree)).toEqual(treeState(live));
      fs.rmSync(file);
    }),
    { numRuns: 60, seed: 7 },
  );
});

test('digest: present and true when no txn lands during the walk, absent when one does; both files read back', async () => {
  const live = new DataTree();
  const d = new TxnDriver(live, 42);
  for (let i = 0; i < 200; i++) d.step();

  const quiet = new FuzzyTreeSnapshot(live, d.sessions);
  const quietFile = await writeSnapshotFile(path.join(dir), quiet.zxid, quiet, { fsync: false, sliceNodes: 3 });
  expect(quiet.fuzzy.exact()).toBe(true);
  expect((await readSnapshotFile(quietFile)).digest).toEqual({ zxid: quiet.zxid, version: 2, digest: liveDigest(live) });

  const busy = new FuzzyTreeSnapshot(live, d.sessions);
  let applied = 0;
  const busyFile = await writeSnapshotFile(dir, busy.zxid, busy, {
    fsync: false,
    sliceNodes: 3,
    pause: async () => {
      if (applied++ < 5) d.step();
    },
  });
  expect(busy.fuzzy.exact()).toBe(false);
  const read = await readSnapshotFile(busyFile);
  expect(read.digest).toBeNull();
  // Apache's cheap validity test still holds: the file ends with the first seal's "/" (int 1, '/').
  const bytes = fs.readFileSync(busyFile);
  expect(bytes.readInt32BE(bytes.length - 5)).toBe(1);
  expect(bytes[bytes.length - 1]).toBe(0x2f);
});

test('node order and format: a quiet fuzzy snapshot is byte for byte the copy snapshot of the same tree', async () => {
  const live = new DataTree();
  const d = new TxnDriver(live, 99);
  for (let i = 0; i < 300; i++) d.step();
  const a = await writeSnapshotFile(path.join(dir), live.lastProcessedZxid, new FuzzyTreeSnapshot(live, d.sessions), { fsync: false });
  const copyDir = path.join(dir, 'copy');
  fs.mkdirSync(copyDir);
  const b = await writeSnapshotFile(copyDir, live.lastProcessedZxid, live.snapshotContents(d.sessions), { fsync: false });
  expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
});

/** A tree of about `n` nodes: /b<i>/n<j>, 100 children each. */
function bigTree(n: number): DataTree {
  const t = new DataTree();
  let zxid = 0n;
  const create = (p: string, cv: number): void => {
    zxid++;
    t.processTxn(
      new TxnHeader({ clientId: 1n, cxid: 0, zxid, time: 1n, type: OpCode.create }),
      new CreateTxn({ path: p, data: Buffer.alloc(32, 7), acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: cv }),
    );
  };
  for (let i = 0; i * 101 < n; i++) {
    create(`/b${i}`, i + 1);
    for (let j = 0; j < 100; j++) create(`/b${i}/n${j}`, j + 1);
  }
  return t;
}

test('the event loop keeps turning while a 200k-node tree is written, and writes land between slices', async () => {
  const live = bigTree(200_000);
  expect(live.nodeCount).toBeGreaterThan(200_000);
  const store = new FileTxnStore({ dataDir: dir, fsync: false, preAllocSize: 1 << 20 });
  await store.load();
  const log: TxnEntry[] = [];
  let k = 0;
  /** Cheap txns for a big tree: creates, setDatas and deletes under /b<i>. */
  const step = (): TxnEntry => {
    const zxid = live.lastProcessedZxid + 1n;
    k++;
    const parent = `/b${(k * 7919) % 1900}`;
    const child = `${parent}/n${k % 100}`;
    let type: number = OpCode.create;
    let rec: Record = new CreateTxn({ path: `${parent}/new${k}`, data: null, acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: live.nodes.get(parent)!.stat.cversion + 1 });
    const node = live.nodes.get(child);
    if (node !== undefined && k % 3 === 1) {
      type = OpCode.delete;
      rec = new DeleteTxn({ path: child });
    } else if (node !== undefined && k % 3 === 2) {
      type = OpCode.setData;
      rec = new SetDataTxn({ path: child, data: Buffer.from(`x${k}`), version: node.stat.version + 1 });
    }
    const header = new TxnHeader({ clientId: 1n, cxid: k, zxid, time: BigInt(k), type });
    const e: TxnEntry = { header, body: encodeRecord(rec) };
    log.push(e);
    live.processTxn(header, decodeTxnBody(type, e.body));
    return e;
  };
  const snap = new FuzzyTreeSnapshot(live, new Map());
  const z0 = snap.zxid;
  let turns = 0;
  let done = false;
  let txnsDuring = 0;
  // A "client": one txn per turn of the event loop, logged then applied, for as long as the snapshot runs.
  const client = (async () => {
    while (!done) {
      await new Promise((r) => setImmediate(r));
      turns++;
      if (!done) {
        const e = step();
        await store.append([e]);
        txnsDuring++;
      }
    }
  })();
  const writing = store.snapshot(z0, snap).finally(() => {
    done = true;
  });
  await writing;
  await client;
  // Slices are ~2 ms; a 200k-node tree takes hundreds of them. (A copy taken at once gave the loop no turn at all.)
  expect(turns).toBeGreaterThan(50);
  expect(txnsDuring).toBeGreaterThan(20);
  expect(snap.fuzzy.exact()).toBe(false);
  await store.close();

  const back = new FileTxnStore({ dataDir: dir, fsync: false });
  const st = await back.load();
  expect(st.snapshot!.zxid).toBe(z0);
  expect(st.snapshot!.digest).toBeNull();
  const tree = new DataTree();
  tree.loadSnapshot(st.snapshot!, z0);
  replay(tree, new Map(st.snapshot!.sessions), st.txns, z0);
  expect(liveDigest(tree)).toBe(liveDigest(live));
  expect(tree.nodeCount).toBe(live.nodeCount);
  await back.close();
}, 120_000);

test('an aborted walk (closing server) or a tree replaced under it leaves no file behind', async () => {
  const live = bigTree(5_000);
  const v2 = path.join(dir, 'version-2');
  fs.mkdirSync(v2);
  const snap = new FuzzyTreeSnapshot(live, new Map());
  let pauses = 0;
  const p = writeSnapshotFile(v2, snap.zxid, snap, {
    fsync: false,
    sliceNodes: 100,
    pause: async () => {
      if (++pauses === 3) snap.fuzzy.abort('server closing');
    },
  });
  await expect(p).rejects.toBeInstanceOf(SnapshotAbortedError);
  expect(fs.readdirSync(v2)).toEqual([]);

  const snap2 = new FuzzyTreeSnapshot(live, new Map());
  const other = bigTree(100);
  const p2 = writeSnapshotFile(v2, snap2.zxid, snap2, {
    fsync: false,
    sliceNodes: 100,
    pause: async () => {
      // A learner's SNAP replaces the tree.
      live.loadSnapshot(other.snapshotContents(new Map()), other.lastProcessedZxid);
    },
  });
  await expect(p2).rejects.toBeInstanceOf(SnapshotAbortedError);
  expect(fs.readdirSync(v2)).toEqual([]);
});

test('the memory store reads a fuzzy source at once, with copied stats', async () => {
  const live = new DataTree();
  const d = new TxnDriver(live, 3);
  for (let i = 0; i < 50; i++) d.step();
  const store = new MemoryTxnStore();
  const snap = new FuzzyTreeSnapshot(live, d.sessions);
  await store.snapshot(snap.zxid, snap);
  const before = treeState(live);
  for (let i = 0; i < 30; i++) d.step();
  const st = await store.load();
  const t = new DataTree();
  t.loadSnapshot(st.snapshot!, st.snapshot!.zxid);
  expect(treeState(t)).toEqual(before);
});
