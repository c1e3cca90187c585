/**
 * What a quorum member needs from its store beyond standalone use (issue 6
 * groundwork): the acceptedEpoch/currentEpoch files with Apache's start-up
 * checks, the txns after a zxid (a leader's DIFF), and truncation to a zxid
 * (a learner's TRUNC). The epoch files are checked against the ones a real
 * Apache 3.8 ensemble writes, and our store loads that ensemble's dataDir.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TxnDigest } from '../../../src/proto';
import { ZooKeeper } from '../../../src';
import {
  CorruptLogError,
  EpochFileError,
  FileTxnStore,
  loadEpochs,
  readEpochFile,
  TruncateError,
  TxnEntry,
  writeEpochFile,
} from '../../../src/server/persist';
import { epochOf } from '../../../src/server/zxid';
import { lastSeenIsStale, MajorityQuorum } from '../../../src/server/quorum/quorum-verifier';
import { apacheAvailable, Cluster, startApache } from '../../harness';
import { createEntries, initialContents, rmDir, tempDir } from './persist-helpers';

const E1 = 1n << 32n;
const zx = (i: number): bigint => E1 | BigInt(i);
const zxids = (entries: TxnEntry[]): bigint[] => entries.map((e) => e.header.zxid);

describe('epoch files', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('zk-epoch-');
  });
  afterEach(() => rmDir(dir));

  test('written as the bare decimal value, replaced atomically, read back; absent is null', async () => {
    expect(await readEpochFile(dir, 'currentEpoch')).toBeNull();
    await writeEpochFile(dir, 'currentEpoch', 7n);
    expect(fs.readFileSync(path.join(dir, 'currentEpoch'), 'utf8')).toBe('7');
    await writeEpochFile(dir, 'currentEpoch', 12n);
    expect(await readEpochFile(dir, 'currentEpoch')).toBe(12n);
    expect(fs.readdirSync(dir)).toEqual(['currentEpoch']); // no .tmp left behind
    await expect(writeEpochFile(dir, 'currentEpoch', -1n)).rejects.toBeInstanceOf(EpochFileError);
    fs.writeFileSync(path.join(dir, 'acceptedEpoch'), 'x1');
    await expect(readEpochFile(dir, 'acceptedEpoch')).rejects.toBeInstanceOf(EpochFileError);
  });

  test('missing files take the epoch of the last zxid and are written', async () => {
    expect(await loadEpochs(dir, (3n << 32n) | 9n)).toEqual({ acceptedEpoch: 3n, currentEpoch: 3n });
    expect(fs.readFileSync(path.join(dir, 'currentEpoch'), 'utf8')).toBe('3');
    expect(fs.readFileSync(path.join(dir, 'acceptedEpoch'), 'utf8')).toBe('3');
  });

  test('a currentEpoch older than the log is refused, unless currentEpoch.tmp shows the update was under way', async () => {
    await writeEpochFile(dir, 'currentEpoch', 2n);
    await writeEpochFile(dir, 'acceptedEpoch', 4n);
    await expect(loadEpochs(dir, (4n << 32n) | 1n)).rejects.toThrow(/current epoch 2 is older than the last zxid's epoch 4/);
    fs.writeFileSync(path.join(dir, 'currentEpoch.tmp'), '4');
    expect(await loadEpochs(dir, (4n << 32n) | 1n)).toEqual({ acceptedEpoch: 4n, currentEpoch: 4n });
    expect(await readEpochFile(dir, 'currentEpoch')).toBe(4n);
  });

  test('an acceptedEpoch below currentEpoch is refused', async () => {
    await writeEpochFile(dir, 'currentEpoch', 5n);
    await writeEpochFile(dir, 'acceptedEpoch', 4n);
    await expect(loadEpochs(dir, 5n << 32n)).rejects.toThrow(/accepted epoch 4 is less than the current epoch 5/);
  });
});

describe('FileTxnStore: txns after a zxid, truncation to a zxid', () => {
  let dir: string;
  let store: FileTxnStore;

  /** log.<1>: zxids 1-5, snapshot.<5>, log.<6>: zxids 6-10 (the snapshot rolled the log). */
  async function twoLogs(): Promise<void> {
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    await store.snapshot(0n, initialContents());
    const first = createEntries(zx(1), 5);
    first[2].digest = new TxnDigest({ version: 2, treeDigest: 42n }); // entry sizes differ with and without a digest
    await store.append(first);
    await store.snapshot(zx(5), initialContents());
    await store.append(createEntries(zx(6), 5));
  }

  async function reload(): Promise<bigint[]> {
    await store.close();
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    const state = await store.load();
    return [state.snapshot?.zxid ?? -1n, ...zxids(state.txns)];
  }

  beforeEach(() => {
    dir = tempDir('zk-quorum-store-');
  });
  afterEach(async () => {
    await store?.close();
    rmDir(dir);
  });

  test('readFrom gives the txns after a zxid across log files; nothing after the last; null when the logs do not reach back', async () => {
    await twoLogs();
    expect(zxids((await store.readFrom(zx(3)))!)).toEqual([4, 5, 6, 7, 8, 9, 10].map(zx));
    expect(zxids((await store.readFrom(zx(6)))!)).toEqual([7, 8, 9, 10].map(zx));
    expect(await store.readFrom(zx(10))).toEqual([]);
    const logs = fs.readdirSync(path.join(dir, 'version-2')).filter((n) => n.startsWith('log.'));
    expect(logs.sort()).toEqual([`log.${zx(1).toString(16)}`, `log.${zx(6).toString(16)}`]);
    fs.rmSync(path.join(dir, 'version-2', `log.${zx(1).toString(16)}`)); // purged
    expect(await store.readFrom(zx(3))).toBeNull();
    expect(zxids((await store.readFrom(zx(6)))!)).toEqual([7, 8, 9, 10].map(zx));
  });

  const logFile = (i: number): string => path.join(dir, 'version-2', `log.${zx(i).toString(16)}`);
  const drain = async (it: AsyncIterable<TxnEntry>): Promise<bigint[]> => {
    const out: bigint[] = [];
    for await (const e of it) out.push(e.header.zxid);
    return out;
  };

  test('findInLog: where a zxid sits, reading from the log file before it (FileTxnIterator), null when the logs start after it', async () => {
    await twoLogs();
    expect(await store.findInLog(zx(3), zx(10), 0)).toEqual({ found: true, before: zx(2), after: zx(4) });
    expect(await store.findInLog(zx(5), zx(10), 0)).toEqual({ found: true, before: zx(4), after: zx(6) });
    // Exactly at a log boundary: the file before it is read too, so the txn before it is seen.
    expect(await store.findInLog(zx(6), zx(10), 0)).toEqual({ found: true, before: zx(5), after: zx(7) });
    expect(await store.findInLog(zx(10), zx(10), 0)).toEqual({ found: true, before: zx(9) });
    expect(await store.findInLog(0n, zx(10), 0)).toBeNull();
    fs.rmSync(logFile(1)); // purged
    expect(await store.findInLog(zx(3), zx(10), 0)).toBeNull();
    expect(await store.findInLog(zx(6), zx(10), 0)).toEqual({ found: true, before: -1n, after: zx(7) });
  });

  test('findInLog: a zxid the log lacks between two logged ones', async () => {
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    await store.snapshot(0n, initialContents());
    await store.append([...createEntries(zx(1), 2), ...createEntries(zx(4), 2)]);
    expect(await store.findInLog(zx(3), zx(5), 0)).toEqual({ found: false, before: zx(2), after: zx(4) });
  });

  test('findInLog: null when the log after the zxid is not one history up to `through` (a SNAP left a hole, or it ends short)', async () => {
    // What a learner's dataDir holds after a SNAP at 7: its older log (1-3), the snapshot, the log after it.
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    await store.snapshot(0n, initialContents());
    await store.append(createEntries(zx(1), 3));
    await store.snapshot(zx(7), initialContents());
    await store.append(createEntries(zx(8), 3));
    expect(await store.findInLog(zx(2), zx(10), 0)).toBeNull();
    expect(await store.findInLog(zx(3), zx(10), 0)).toBeNull();
    // From the snapshot on, the log is whole.
    expect(await store.findInLog(zx(8), zx(10), 0)).toEqual({ found: true, before: zx(3), after: zx(9) });
    // Up to a zxid it does not log (or past its end): not one history with the committed log either.
    expect(await store.findInLog(zx(8), zx(11), 0)).toBeNull();
    expect(await store.findInLog(zx(1), zx(2), 0)).toEqual({ found: true, before: -1n, after: zx(2) });
  });

  test('loggedSinceSnapshot: a txn logged after the newest snapshot, not one a SNAP left behind in an older log, not one never logged', async () => {
    // The same dataDir as above: log 1-3 (another history's), a SNAP at 7, log 8-10.
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    await store.snapshot(0n, initialContents());
    await store.append(createEntries(zx(1), 3));
    expect(await store.loggedSinceSnapshot(zx(2))).toBe(true);
    expect(await store.loggedSinceSnapshot(zx(4))).toBe(false);
    await store.snapshot(zx(7), initialContents());
    await store.append(createEntries(zx(8), 3));
    expect(await store.loggedSinceSnapshot(zx(2))).toBe(false);
    expect(await store.loggedSinceSnapshot(zx(7))).toBe(false);
    expect(await store.loggedSinceSnapshot(zx(9))).toBe(true);
    expect(await store.loggedSinceSnapshot(zx(11))).toBe(false);
  });

  test('lastSeenIsStale: a newer last seen config whose reconfig txn is not in the history, never an epoch-start version or one not newer', () => {
    const qv = (version: bigint) => new MajorityQuorum([], version);
    expect(lastSeenIsStale(qv(zx(3)), qv(zx(9)), false)).toBe(true);
    expect(lastSeenIsStale(qv(zx(3)), qv(zx(9)), true)).toBe(false);
    expect(lastSeenIsStale(qv(zx(9)), qv(zx(9)), false)).toBe(false);
    expect(lastSeenIsStale(qv(0n), qv(2n << 32n), false)).toBe(false); // ZOOKEEPER-1783's first version: no txn behind it
  });

  test('findInLog: the size limit counts the files after the one the read starts in, by their length on disk (File.length)', async () => {
    await twoLogs();
    const second = fs.statSync(logFile(6)).size;
    // From 3 (in log.1) and from 6 (a boundary: the read starts in log.1) the read covers log.6 too.
    expect(await store.findInLog(zx(3), zx(10), second - 1)).toBeNull();
    expect(await store.findInLog(zx(3), zx(10), second)).not.toBeNull();
    expect(await store.findInLog(zx(6), zx(10), second - 1)).toBeNull();
    // From 7 the read starts in log.6, the last file: nothing after it counts.
    expect(await store.findInLog(zx(7), zx(10), 1)).toEqual({ found: true, before: zx(6), after: zx(8) });
  });

  test('txnLogSizeLimit: factor times the newest snapshot that looks complete; 0 (no limit) without one', async () => {
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    expect(await store.txnLogSizeLimit(0.33)).toBe(0);
    await store.close();
    await twoLogs();
    const snap = (z: bigint): string => path.join(dir, 'version-2', `snapshot.${z.toString(16)}`);
    const newest = fs.statSync(snap(zx(5))).size;
    expect(await store.txnLogSizeLimit(0.33)).toBe(Math.floor(newest * 0.33));
    expect(await store.txnLogSizeLimit(1)).toBe(newest);
    fs.truncateSync(snap(zx(5)), newest - 1); // its end marker cut: not a valid snapshot for Apache either
    expect(await store.txnLogSizeLimit(0.5)).toBe(Math.floor(fs.statSync(snap(0n)).size * 0.5));
  });

  test('logEntries streams (after, through] across log files, stops at through, and throws when the log does not reach it', async () => {
    await twoLogs();
    expect(await drain(store.logEntries(zx(3), zx(8)))).toEqual([4, 5, 6, 7, 8].map(zx));
    expect(await drain(store.logEntries(zx(5), zx(6)))).toEqual([zx(6)]);
    expect(await drain(store.logEntries(zx(9), zx(10)))).toEqual([zx(10)]);
    await expect(drain(store.logEntries(zx(8), zx(12)))).rejects.toThrow(/ends at 0x10000000a, before 0x10000000c/);
    // Damage in the middle of the range is an error, not a silent hole.
    const f = logFile(1);
    const buf = fs.readFileSync(f);
    buf[40] ^= 0xff;
    fs.writeFileSync(f, buf);
    await expect(drain(store.logEntries(zx(1), zx(8)))).rejects.toBeInstanceOf(CorruptLogError);
  });

  test('truncateTo inside the last log keeps what is before, and appends continue after it', async () => {
    await twoLogs();
    await store.truncateTo(zx(7));
    await expect(store.append(createEntries(zx(7), 1))).rejects.toThrow(/not after/);
    await store.append(createEntries(zx(8), 2));
    expect(await reload()).toEqual([zx(5), zx(6), zx(7), zx(8), zx(9)]);
  });

  test('truncateTo before a snapshot drops the later log files and the newer snapshot', async () => {
    await twoLogs();
    await store.truncateTo(zx(3));
    const names = fs.readdirSync(path.join(dir, 'version-2')).sort();
    expect(names.filter((n) => n.startsWith('snapshot.'))).toEqual(['snapshot.0']);
    expect(names.filter((n) => n.startsWith('log.'))).toEqual([`log.${zx(1).toString(16)}`]);
    // Entry 3 carries a digest: the cut must land exactly after it.
    const state = await (async () => {
      await store.close();
      store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
      return store.load();
    })();
    expect(zxids(state.txns)).toEqual([zx(1), zx(2), zx(3)]);
    expect(state.txns[2].digest?.treeDigest).toBe(42n);
    expect(store.lastLoadReport?.truncated).toEqual([]); // the cut left a clean end, nothing to repair
  });

  test('truncateTo with no snapshot at or before the zxid changes nothing and says so', async () => {
    store = new FileTxnStore({ dataDir: dir, preAllocSize: 64 * 1024 });
    await store.load();
    await store.snapshot(zx(2), initialContents());
    await store.append(createEntries(zx(3), 3));
    await expect(store.truncateTo(zx(1))).rejects.toBeInstanceOf(TruncateError);
    await store.append(createEntries(zx(6), 1)); // still usable
    expect(await reload()).toEqual([zx(2), zx(3), zx(4), zx(5), zx(6)]);
  });
});

const describeApache = apacheAvailable() ? describe : describe.skip;
if (!apacheAvailable()) {
  // A missing Apache is a broken set-up, not a pass (npm test installs it).
  test('Apache ZooKeeper 3.8 is installed', () => expect(apacheAvailable()).toBe(true));
}

describeApache('epoch files of a real Apache 3.8 ensemble', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startApache({ servers: 3, tickTime: 500 });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('have our format and values; our store loads a member\'s dataDir and its epochs check out', async () => {
    const zk = new ZooKeeper(cluster.connectString);
    await zk.connected();
    const created = await zk.create('/epoch-check', 'x');
    const { stat } = await zk.getData(created);
    await zk.close();
    const epoch = epochOf(stat.mzxid);
    expect(epoch).toBeGreaterThan(0n);
    const member = cluster.servers[0];
    await member.stop(); // a clean stop: its log is complete and the dataDir is free
    const snapDir = path.join(member.dataDir, 'version-2');
    for (const name of ['acceptedEpoch', 'currentEpoch']) {
      const raw = fs.readFileSync(path.join(snapDir, name), 'utf8');
      expect(raw).toBe(String(epoch)); // exactly what writeEpochFile writes
      expect(await readEpochFile(snapDir, name)).toBe(epoch);
    }
    const store = new FileTxnStore({ dataDir: member.dataDir });
    try {
      const state = await store.load();
      expect(state.lastZxid).toBeGreaterThanOrEqual(stat.mzxid);
      expect(await store.loadEpochs(state.lastZxid)).toEqual({ acceptedEpoch: epoch, currentEpoch: epoch });
      const after = await store.readFrom(stat.mzxid - 1n);
      expect(after?.map((e) => e.header.zxid)).toContain(stat.mzxid);
    } finally {
      await store.close();
    }
  });
});
