/**
 * The txn log writer's group commit, step by step: fdatasync is intercepted
 * (jest.spyOn on the fs module the writer calls through) and its callbacks
 * held, so each test decides when the disk "finishes". Pins:
 * - an append to an idle log starts its fsync at once (no event-loop turn);
 * - at most one fsync is in flight; appends behind it form the next batch,
 *   which is written and synced as soon as the first one is durable;
 * - no append resolves before an fsync that started after its bytes were
 *   written;
 * - a failed fsync fails its batch and every later append, and never hangs;
 * - a record that does not serialize leaves nothing half-written.
 * Each sync method ('fdatasync', 'dsync', 'inline') also round-trips under
 * concurrent load.
 */
// The module object itself (not an __importStar copy), so spying on it reaches the writer's calls.
import fs = require('fs');
import * as path from 'path';
import { TxnHeader, OpCode } from '../../../src/proto';
import { PersistError } from '../../../src/server/persist/errors';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { scanLogFile } from '../../../src/server/persist/txn-log-reader';
import { TxnLogSyncMethod, TxnLogWriter } from '../../../src/server/persist/txn-log-writer';
import { createEntries, createEntry, initialContents, rmDir, tempDir } from './persist-helpers';

type SyncCallback = (err: NodeJS.ErrnoException | null) => void;

let dir: string;
let held: Array<{ fd: number; cb: SyncCallback }>;
let spy: jest.SpyInstance;

beforeEach(() => {
  dir = tempDir('zk-persist-gc-');
  held = [];
  // Hold every fdatasync's completion until the test releases it (the real one still runs first).
  spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: SyncCallback) => {
    fs.fdatasyncSync(fd);
    held.push({ fd, cb });
  }) as unknown as typeof fs.fdatasync);
});

afterEach(() => {
  spy.mockRestore();
  rmDir(dir);
});

function writer(): TxnLogWriter {
  return new TxnLogWriter({ dir, preAllocSize: 4096, fsync: true, lastZxid: 0n });
}

/** Lets microtasks and a few event-loop turns run (enough for anything that does not wait on the thread pool). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Waits until `n` fdatasyncs are held. Only the first batch needs this: it
 * opens the file first (open, header write and directory fsync on the thread
 * pool); after that a flush reaches fdatasync synchronously from a microtask.
 */
async function waitForHeld(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (held.length < n) {
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${n} fdatasync(s), ${held.length} held`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function release(err: NodeJS.ErrnoException | null = null): void {
  const h = held.shift();
  if (!h) throw new Error('no fdatasync in flight');
  h.cb(err);
}

/** Releases held fsyncs as they come until `until()` holds (at most 10 s). */
async function drainHeld(until: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!until() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
    while (held.length > 0) release();
  }
  await settle();
}

function track(p: Promise<void>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  p.then(
    () => (state.done = true),
    (e: unknown) => {
      state.done = true;
      state.error = e;
    },
  );
  return state;
}

async function zxidsOnDisk(): Promise<bigint[]> {
  const scan = await scanLogFile(path.join(dir, 'log.1'));
  return scan.entries.map((e) => e.header.zxid);
}

test('an append to an idle log is synced without waiting for an event-loop turn', async () => {
  const w = writer();
  const opening = track(w.append([createEntry(1n, '/a', 'x')]));
  // The first append opens the file (async); wait for its fsync to be held, then release it.
  await waitForHeld(1);
  release();
  await settle();
  expect(opening).toEqual({ done: true, error: undefined });
  const p = track(w.append([createEntry(2n, '/b', 'y')]));
  // Microtasks only: the fdatasync must already have been asked for, before any setImmediate.
  await Promise.resolve();
  await Promise.resolve();
  expect(held).toHaveLength(1);
  expect(p.done).toBe(false);
  release();
  await settle();
  expect(p).toEqual({ done: true, error: undefined });
  await w.close();
});

test('one fsync in flight; appends behind it form the next batch and resolve only after their own fsync', async () => {
  const w = writer();
  let heldWhenFirstAnswered = -1;
  const firstPromise = w.append([createEntry(1n, '/a', 'x')]);
  const first = track(firstPromise);
  void firstPromise.then(() => (heldWhenFirstAnswered = held.length));
  await waitForHeld(1);
  // Three appends while the first fsync is in flight: no second fsync yet.
  const behind = [track(w.append([createEntry(2n, '/b', 'y')])), track(w.append(createEntries(3n, 2))), track(w.append([createEntry(5n, '/e', 'z')]))];
  await settle();
  expect(held).toHaveLength(1);
  expect(first.done).toBe(false);

  release();
  await settle();
  expect(first).toEqual({ done: true, error: undefined });
  // The disk got the next batch before the first one's callers ran (they apply and reply meanwhile).
  expect(heldWhenFirstAnswered).toBe(1);
  // The next batch was written before its fsync was started, and is not acknowledged yet.
  expect(held).toHaveLength(1);
  expect(await zxidsOnDisk()).toEqual([1n, 2n, 3n, 4n, 5n]);
  expect(behind.map((b) => b.done)).toEqual([false, false, false]);

  release();
  await settle();
  expect(behind.every((b) => b.done && b.error === undefined)).toBe(true);
  expect(w.stats).toMatchObject({ appends: 4, entries: 5, batches: 2, fsyncs: 2, maxBatchEntries: 4 });
  await w.close();
});

test('sync() waits for the fsync in flight and for the batch behind it', async () => {
  const w = writer();
  void w.append([createEntry(1n, '/a', 'x')]);
  await waitForHeld(1);
  void w.append([createEntry(2n, '/b', 'y')]);
  const synced = track(w.sync());
  release();
  await settle();
  expect(synced.done).toBe(false);
  release();
  await settle();
  expect(synced.done).toBe(true);
  await w.close();
});

test('a failed fsync fails its batch and the one behind it, then every later append; nothing hangs', async () => {
  const w = writer();
  const first = track(w.append([createEntry(1n, '/a', 'x')]));
  await waitForHeld(1);
  const behind = track(w.append([createEntry(2n, '/b', 'y')]));
  const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  release(eio);
  await settle();
  expect(first).toEqual({ done: true, error: eio });
  expect(behind.done).toBe(true);
  expect(behind.error).toBeInstanceOf(PersistError);
  expect((behind.error as PersistError).cause).toBe(eio);
  expect(held).toHaveLength(0);
  await expect(w.append([createEntry(3n, '/c', 'z')])).rejects.toBeInstanceOf(PersistError);
  await w.sync();
  await w.close();
});

test('a record that does not serialize is refused whole and leaves no partial bytes behind', async () => {
  const w = writer();
  const bad = createEntry(2n, '/bad', 'x');
  // cxid is a jute int: out of range, so the header fails to serialize after part of the record is out.
  bad.header = new TxnHeader({ clientId: 1n, cxid: 2 ** 40, zxid: 2n, time: 0n, type: OpCode.create });
  const ok = track(w.append([createEntry(1n, '/a', 'x')]));
  await expect(w.append([bad])).rejects.toThrow();
  // zxid 2 was not taken by the refused append.
  const after = track(w.append([createEntry(2n, '/b', 'y')]));
  await drainHeld(() => ok.done && after.done);
  expect(ok).toEqual({ done: true, error: undefined });
  expect(after).toEqual({ done: true, error: undefined });
  await w.close();
  expect(await zxidsOnDisk()).toEqual([1n, 2n]);
});

describe.each<TxnLogSyncMethod>(['fdatasync', 'dsync', 'inline'])('sync method %s', (method) => {
  beforeEach(() => spy.mockRestore());

  test('concurrent appends group-commit and reload in order; sequential ones get an fsync each', async () => {
    const store = new FileTxnStore({ dataDir: dir, preAllocSize: 4096, fsync: true, syncMethod: method });
    await store.load();
    await store.snapshot(0n, initialContents());
    let next = 1n;
    const worker = async (): Promise<void> => {
      while (next <= 400n) {
        const z = next++;
        await store.append([createEntry(z, `/w${z}`, 'v'.repeat(100))]);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    const st = store.stats();
    expect(st.entries).toBe(400);
    expect(st.fsyncs).toBe(st.batches);
    expect(st.entriesPerFsync).toBeGreaterThan(2);
    const before = st.fsyncs;
    for (const e of createEntries(401n, 5)) await store.append([e]);
    expect(store.stats().fsyncs).toBe(before + 5);
    await store.close();

    const back = new FileTxnStore({ dataDir: dir, fsync: false });
    const loaded = await back.load();
    expect(loaded.txns.map((t) => t.header.zxid)).toEqual(Array.from({ length: 405 }, (_, i) => BigInt(i + 1)));
    await back.close();
  });
});
