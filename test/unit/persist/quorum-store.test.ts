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
  EpochFileError,
  FileTxnStore,
  loadEpochs,
  readEpochFile,
  TruncateError,
  TxnEntry,
  writeEpochFile,
} from '../../../src/server/persist';
import { epochOf } from '../../../src/server/zxid';
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
