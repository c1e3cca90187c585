/**
 * The txn log through FileTxnStore: round trip, file naming and rolling,
 * preallocation, group commit, and recovery from torn and corrupt tails.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TxnDigest } from '../../../src/proto';
import { BadLogHeaderError, CorruptLogError, MissingSnapshotError, ZxidOrderError, DataDirLayoutError } from '../../../src/server/persist/errors';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { scanLogFile } from '../../../src/server/persist/txn-log-reader';
import { paddedFileSize } from '../../../src/server/persist/txn-log-writer';
import { ENTRY_OVERHEAD, encodeTxnPayload } from '../../../src/server/persist/txn-codec';
import type { TxnEntry } from '../../../src/server/persist/types';
import { createEntries, createEntry, createSessionEntry, initialContents, plain, rmDir, setDataEntry, tempDir } from './persist-helpers';

const PREALLOC = 4096;
let dir: string;

beforeEach(() => {
  dir = tempDir('zk-persist-log-');
});
afterEach(() => rmDir(dir));

function logDir(d = dir): string {
  return path.join(d, 'version-2');
}

function logFiles(d = logDir()): string[] {
  return fs.readdirSync(d).filter((n) => n.startsWith('log.')).sort();
}

/** A loaded store on `d` with snapshot.0 written, as a server does on first start. */
async function freshStore(d = dir, opts: { fsync?: boolean; dataLogDir?: string } = {}): Promise<FileTxnStore> {
  const s = new FileTxnStore({ dataDir: d, preAllocSize: PREALLOC, fsync: opts.fsync ?? false, dataLogDir: opts.dataLogDir });
  await s.load();
  await s.snapshot(0n, initialContents());
  return s;
}

async function reload(d = dir, extra: { truncateCorruptLog?: boolean } = {}): Promise<{ store: FileTxnStore; txns: TxnEntry[]; lastZxid: bigint }> {
  const store = new FileTxnStore({ dataDir: d, preAllocSize: PREALLOC, fsync: false, ...extra });
  const st = await store.load();
  return { store, txns: st.txns, lastZxid: st.lastZxid };
}

function recordSize(e: TxnEntry): number {
  return encodeTxnPayload(e).length + ENTRY_OVERHEAD;
}

describe('txn log round trip', () => {
  test('appended entries come back byte for byte, digests included', async () => {
    const s = await freshStore();
    const entries: TxnEntry[] = [createSessionEntry(1n), createEntry(2n, '/a', 'hello'), setDataEntry(3n, '/a', 'x', 0)];
    entries[2].digest = new TxnDigest({ version: 2, treeDigest: 123456789012n });
    await s.append(entries.slice(0, 2));
    await s.append(entries.slice(2));
    await s.close();

    const { store, txns, lastZxid } = await reload();
    expect(lastZxid).toBe(3n);
    expect(txns.map((t) => encodeTxnPayload(t))).toEqual(entries.map((e) => encodeTxnPayload(e)));
    expect(plain(txns[0].header)).toEqual(plain(entries[0].header));
    expect(txns[0].digest).toBeNull();
    expect(txns[2].digest?.treeDigest).toBe(123456789012n);
    await store.close();
  });

  test('files are log.<hex zxid of first entry>, preallocated like Apache, and a restart opens a new file', async () => {
    const s = await freshStore();
    await s.append(createEntries(1n, 3));
    await s.close();
    expect(logFiles()).toEqual(['log.1']);
    // FilePadding: header (16) + one preAllocSize step of zeros.
    expect(fs.statSync(path.join(logDir(), 'log.1')).size).toBe(16 + PREALLOC);

    const { store } = await reload();
    await store.append(createEntries(4n, 2));
    await store.close();
    expect(logFiles()).toEqual(['log.1', 'log.4']);
    const { store: s3, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n, 4n, 5n]);
    await s3.close();
  });

  test('zxid 0x1a names log.1a (lower-case hex, no padding)', async () => {
    const s = await freshStore();
    await s.append(createEntries(0x1an, 1));
    await s.close();
    expect(logFiles()).toEqual(['log.1a']);
  });

  test('a snapshot rolls the log: the next append starts a new file', async () => {
    const s = await freshStore();
    await s.append(createEntries(1n, 3));
    await s.snapshot(3n, initialContents());
    await s.append(createEntries(4n, 2));
    await s.close();
    expect(logFiles()).toEqual(['log.1', 'log.4']);
    expect(fs.readdirSync(logDir()).filter((n) => n.startsWith('snapshot.')).sort()).toEqual(['snapshot.0', 'snapshot.3']);
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([4n, 5n]);
    await store.close();
  });

  test('padding follows FilePadding.calculateFileSizeWithPadding', () => {
    // Apache 3.8 with preAllocSize=1 KB grew a log in 1 KB steps to 4112 bytes (observed).
    let size = 16;
    for (const pos of [16, 60, 120, 200]) size = paddedFileSize(pos, size, 1024);
    expect(size).toBe(4112);
    expect(paddedFileSize(10_000, 4112, 1024)).toBe(10_240);
    expect(paddedFileSize(100, 1 << 20, 1024)).toBe(1 << 20);
    expect(paddedFileSize(100, 16, 0)).toBe(16);
  });

  test('entries larger than the preallocation step still land intact', async () => {
    const s = await freshStore();
    const big = createEntry(1n, '/big', 'x'.repeat(3 * PREALLOC));
    await s.append([big, createEntry(2n, '/after', 'y')]);
    await s.append([createEntry(3n, '/later', 'z')]);
    await s.close();
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n]);
    expect(encodeTxnPayload(txns[0])).toEqual(encodeTxnPayload(big));
    await store.close();
  });

  test('zxids must grow', async () => {
    const s = await freshStore();
    await s.append(createEntries(5n, 1));
    await expect(s.append(createEntries(5n, 1))).rejects.toBeInstanceOf(ZxidOrderError);
    await expect(s.append([createEntry(7n, '/x', ''), createEntry(6n, '/y', '')])).rejects.toBeInstanceOf(ZxidOrderError);
    await s.append(createEntries(6n, 1));
    await s.close();
  });

  test('logs without any snapshot are refused, like Apache, unless trustEmptySnapshot', async () => {
    const s = await freshStore();
    await s.append(createEntries(1n, 2));
    await s.close();
    fs.rmSync(path.join(logDir(), 'snapshot.0'));
    await expect(new FileTxnStore({ dataDir: dir, fsync: false }).load()).rejects.toBeInstanceOf(MissingSnapshotError);
    const trusting = new FileTxnStore({ dataDir: dir, fsync: false, trustEmptySnapshot: true });
    expect((await trusting.load()).txns).toHaveLength(2);
    await trusting.close();
  });

  test('dataLogDir holds the logs, dataDir the snapshots; mixed-up dirs are refused', async () => {
    const logsAt = tempDir('zk-persist-logdir-');
    try {
      const s = await freshStore(dir, { dataLogDir: logsAt });
      await s.append(createEntries(1n, 2));
      await s.close();
      expect(logFiles(path.join(logsAt, 'version-2'))).toEqual(['log.1']);
      expect(logFiles(logDir())).toEqual([]);
      const back = new FileTxnStore({ dataDir: dir, dataLogDir: logsAt, fsync: false });
      expect((await back.load()).txns).toHaveLength(2);
      await back.close();
      fs.copyFileSync(path.join(logDir(), 'snapshot.0'), path.join(logsAt, 'version-2', 'snapshot.0'));
      await expect(new FileTxnStore({ dataDir: dir, dataLogDir: logsAt, fsync: false }).load()).rejects.toBeInstanceOf(DataDirLayoutError);
    } finally {
      rmDir(logsAt);
    }
  });
});

describe('group commit', () => {
  test('concurrent appends share fsyncs; every promise resolves only with its entry on disk', async () => {
    const s = await freshStore(dir, { fsync: true });
    const N = 400;
    const acked: bigint[] = [];
    await Promise.all(
      createEntries(1n, N).map((e) => s.append([e]).then(() => acked.push(e.header.zxid))),
    );
    const st = s.stats();
    // Printed so the ratio shows up in test logs (the issue asks for entries per fsync under load).
    console.log(`group commit: ${st.entries} entries, ${st.fsyncs} fsyncs, ${st.batches} batches, ${st.entriesPerFsync.toFixed(1)} entries/fsync`);
    expect(acked).toHaveLength(N);
    expect(st.entries).toBe(N);
    expect(st.fsyncs).toBe(st.batches);
    expect(st.fsyncs).toBeLessThan(N / 4);
    await s.close();
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual(createEntries(1n, N).map((e) => e.header.zxid));
    await store.close();
  });

  test('appends that arrive while an fsync is in flight form the next batch', async () => {
    const s = await freshStore(dir, { fsync: true });
    // Keep 20 appends in flight at all times, for 300 entries.
    let next = 1n;
    const worker = async (): Promise<void> => {
      while (next <= 300n) {
        const z = next++;
        await s.append([createEntry(z, `/w${z}`, 'v')]);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    const st = s.stats();
    console.log(`pipelined load: ${st.entries} entries, ${st.fsyncs} fsyncs, ${st.entriesPerFsync.toFixed(1)} entries/fsync`);
    expect(st.entries).toBe(300);
    expect(st.entriesPerFsync).toBeGreaterThan(2);
    await s.close();
  });

  test('sequential appends each get their own fsync (nothing to batch)', async () => {
    const s = await freshStore(dir, { fsync: true });
    for (const e of createEntries(1n, 10)) await s.append([e]);
    expect(s.stats().fsyncs).toBe(10);
    await s.close();
  });
});

describe('torn and corrupt tails', () => {
  /** Writes 4 entries in one file, returns the file and the offsets where each entry starts. */
  async function writeFour(): Promise<{ file: string; starts: number[]; end: number; entries: TxnEntry[] }> {
    const s = await freshStore();
    const entries = [createSessionEntry(1n), createEntry(2n, '/a', 'alpha'), createEntry(3n, '/b', 'beta', 2), setDataEntry(4n, '/a', 'gamma', 0)];
    await s.append(entries);
    await s.close();
    const starts: number[] = [];
    let off = 16;
    for (const e of entries) {
      starts.push(off);
      off += recordSize(e);
    }
    return { file: path.join(logDir(), 'log.1'), starts, end: off, entries };
  }

  test('cut at every byte offset inside the last entry: only complete entries load and the file is cut back', async () => {
    const { file, starts, end } = await writeFour();
    const original = fs.readFileSync(file).subarray(0, end);
    const last = starts[3];
    for (let cut = last; cut <= end; cut++) {
      fs.writeFileSync(file, original.subarray(0, cut));
      const { store, txns } = await reload();
      const want = cut === end ? [1n, 2n, 3n, 4n] : [1n, 2n, 3n];
      expect({ cut, zxids: txns.map((t) => t.header.zxid) }).toEqual({ cut, zxids: want });
      expect({ cut, size: fs.statSync(file).size }).toEqual({ cut, size: cut === end ? end : last });
      await store.close();
      for (const extra of logFiles().filter((n) => n !== 'log.1')) fs.rmSync(path.join(logDir(), extra));
    }
  });

  test('a torn tail followed by garbage (not zeros) is cut too', async () => {
    const { file, starts, end } = await writeFour();
    const bytes = Buffer.from(fs.readFileSync(file).subarray(0, end));
    for (let i = starts[3] + 20; i < end; i++) bytes[i] = (i * 131) & 0xff;
    fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(100, 0x5a)]));
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n]);
    expect(fs.statSync(file).size).toBe(starts[3]);
    expect(store.lastLoadReport?.truncated[0]).toMatchObject({ file: 'log.1', at: starts[3] });
    await store.close();
  });

  test('the store keeps working after a cut: the next append goes to a new file and everything reloads', async () => {
    const { file, starts } = await writeFour();
    fs.truncateSync(file, starts[3] + 7);
    const { store, lastZxid } = await reload();
    expect(lastZxid).toBe(3n);
    await store.append([createEntry(4n, '/c', 'again'), createEntry(5n, '/d', 'more')]);
    await store.close();
    expect(logFiles()).toEqual(['log.1', 'log.4']);
    const again = await reload();
    expect(again.txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n, 4n, 5n]);
    await again.store.close();
  });

  test('a bad checksum on the LAST entry is a torn write: cut, not loaded', async () => {
    const { file, starts } = await writeFour();
    const bytes = fs.readFileSync(file);
    bytes[starts[3] + 12 + 5] ^= 0x01; // a payload byte of entry 4
    fs.writeFileSync(file, bytes);
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n, 3n]);
    expect(fs.statSync(file).size).toBe(starts[3]);
    await store.close();
  });

  test('a bad checksum in the MIDDLE is refused (valid entries follow; cutting would lose them), file untouched', async () => {
    const { file, starts } = await writeFour();
    const bytes = fs.readFileSync(file);
    bytes[starts[1] + 12 + 20] ^= 0x40; // inside entry 2's payload
    fs.writeFileSync(file, bytes);
    const err = await new FileTxnStore({ dataDir: dir, fsync: false }).load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err).toMatchObject({ file, offset: starts[1] });
    expect(fs.readFileSync(file)).toEqual(bytes);
  });

  test('with truncateCorruptLog a middle corruption is cut there and later log files are dropped', async () => {
    const { file, starts } = await writeFour();
    // A later file, as after a restart.
    const { store: s2 } = await reload();
    await s2.append(createEntries(5n, 2));
    await s2.close();
    expect(logFiles()).toEqual(['log.1', 'log.5']);
    const bytes = fs.readFileSync(file);
    bytes[starts[2] + 3] ^= 0xff; // entry 3's stored checksum
    fs.writeFileSync(file, bytes);
    const { store, txns } = await reload(dir, { truncateCorruptLog: true });
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n]);
    expect(fs.statSync(file).size).toBe(starts[2]);
    expect(logFiles()).toEqual(['log.1']);
    await store.close();
  });

  test('an empty or header-less NEWEST log file (crash right after creating it) is removed, like Apache', async () => {
    const s = await freshStore();
    await s.append(createEntries(1n, 2));
    await s.close();
    fs.writeFileSync(path.join(logDir(), 'log.9'), Buffer.from([0x5a, 0x4b])); // header cut short
    const { store, txns } = await reload();
    expect(txns.map((t) => t.header.zxid)).toEqual([1n, 2n]);
    expect(logFiles()).toEqual(['log.1']);
    await store.close();
  });

  test('a header-less log file with later files after it is refused (Apache fails on it too)', async () => {
    const s = await freshStore();
    await s.append(createEntries(1n, 2));
    await s.close();
    fs.writeFileSync(path.join(logDir(), 'log.3'), Buffer.alloc(0));
    fs.writeFileSync(path.join(logDir(), 'log.9'), fs.readFileSync(path.join(logDir(), 'log.1')).subarray(0, 16));
    await expect(new FileTxnStore({ dataDir: dir, fsync: false }).load()).rejects.toBeInstanceOf(BadLogHeaderError);
  });

  test('scanLogFile reports a clean end at the preallocated zeros', async () => {
    const { file, end } = await writeFour();
    const scan = await scanLogFile(file);
    expect(scan.entries).toHaveLength(4);
    expect(scan.validEnd).toBe(end);
    expect(scan.end.kind).toBe('clean');
    expect(scan.size).toBe(16 + PREALLOC);
  });
});
