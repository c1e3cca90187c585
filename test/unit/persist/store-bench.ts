/**
 * Micro-benchmark of FileTxnStore's append path alone (no network, no tree),
 * fsync on, 128-byte setData payloads like the server benchmark's:
 *
 * - sequential: one append in flight, the next issued when it resolves
 *   (each one is its own fsync: the latency floor of a write);
 * - concurrent N: N workers each keep one single-entry append in flight
 *   (how the server's sessions feed the log under pipelined load);
 *   reports appends/s, fsyncs/s and entries per fsync.
 *
 * Not a jest test (it measures, it does not assert); run it with
 *   node -r ts-node/register/transpile-only test/unit/persist/store-bench.ts [rounds] [fdatasync|dsync]
 * Every run is bounded by an op count and a time budget. Each scenario is
 * repeated `rounds` times (default 3) and the median is printed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SetDataTxn, TxnHeader, OpCode } from '../../../src/proto';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import type { TxnEntry } from '../../../src/server/persist/types';
import type { TxnLogSyncMethod } from '../../../src/server/persist/txn-log-writer';
import { SESSION, T0, encode, initialContents, rmDir, tempDir } from './persist-helpers';

/** Second argument: 'fdatasync' (default) or 'dsync'. */
const METHOD = (process.argv[3] ?? 'fdatasync') as TxnLogSyncMethod;
/** BENCH_STORE_DIR: where the temp data dirs go (e.g. /dev/shm, where fdatasync costs nothing, to see the code path alone). */
const BASE_DIR = process.env.BENCH_STORE_DIR;
const PAYLOAD = Buffer.alloc(128, 0x61);
const BODY = encode(new SetDataTxn({ path: '/bench', data: PAYLOAD, version: -1 }));

function entry(zxid: bigint): TxnEntry {
  return { header: new TxnHeader({ clientId: SESSION, cxid: Number(zxid & 0x7fffffffn), zxid, time: T0 + zxid, type: OpCode.setData }), body: BODY };
}

interface Result {
  appendsPerSec: number;
  /** This process's CPU (user + system, all threads) per append. */
  cpuUsPerAppend: number;
  /** Mean time one fdatasync took (the disk's share). */
  fsyncUs: number;
  /** Wall time per batch not spent inside fdatasync: what the code path adds. */
  overheadUsPerBatch: number;
  fsyncsPerSec: number;
  entriesPerFsync: number;
  p50us: number;
  p99us: number;
}

async function run(inFlight: number, maxOps: number, budgetMs: number): Promise<Result> {
  const dir = BASE_DIR === undefined ? tempDir('zk-store-bench-') : fs.mkdtempSync(path.join(BASE_DIR, 'zk-store-bench-'));
  const store = new FileTxnStore({ dataDir: dir, fsync: true, syncMethod: METHOD });
  try {
    await store.load();
    await store.snapshot(0n, initialContents());
    // Warm the file (creation, first preallocation) outside the measurement.
    await store.append([entry(1n)]);
    let next = 2n;
    let done = 0;
    const lat: number[] = [];
    const before = store.stats();
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const deadline = started + budgetMs;
    const worker = async (): Promise<void> => {
      while (done + inFlight <= maxOps && performance.now() < deadline) {
        const t = performance.now();
        await store.append([entry(next++)]);
        lat.push(performance.now() - t);
        done++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const wallMs = performance.now() - started;
    const secs = wallMs / 1000;
    const cpu = process.cpuUsage(cpu0);
    const after = store.stats();
    const fsyncs = after.fsyncs - before.fsyncs;
    const fsyncMs = after.fsyncTimeTotalMs - before.fsyncTimeTotalMs;
    lat.sort((a, b) => a - b);
    return {
      appendsPerSec: done / secs,
      cpuUsPerAppend: (cpu.user + cpu.system) / done,
      fsyncUs: fsyncs === 0 ? 0 : (fsyncMs * 1000) / fsyncs,
      overheadUsPerBatch: fsyncs === 0 ? 0 : ((wallMs - fsyncMs) * 1000) / fsyncs,
      fsyncsPerSec: fsyncs / secs,
      entriesPerFsync: fsyncs === 0 ? 0 : (after.entries - before.entries) / fsyncs,
      p50us: lat[Math.floor(lat.length * 0.5)] * 1000,
      p99us: lat[Math.floor(lat.length * 0.99)] * 1000,
    };
  } finally {
    await store.close();
    rmDir(dir);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const scenarios: Array<{ name: string; inFlight: number; ops: number }> = [
    { name: 'sequential (1 in flight)', inFlight: 1, ops: 3000 },
    { name: 'concurrent (10 in flight)', inFlight: 10, ops: 20_000 },
    { name: 'concurrent (100 in flight)', inFlight: 100, ops: 50_000 },
    { name: 'concurrent (1000 in flight)', inFlight: 1000, ops: 100_000 },
  ];
  console.log(`| scenario | appends/s | fsyncs/s | entries/fsync | p50 µs | p99 µs | fsync µs | other µs/batch | CPU µs/append |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const sc of scenarios) {
    const rs: Result[] = [];
    for (let i = 0; i < rounds; i++) rs.push(await run(sc.inFlight, sc.ops, 2000));
    const m = (f: (r: Result) => number): string => Math.round(median(rs.map(f))).toLocaleString('en-US');
    const range = `${Math.round(Math.min(...rs.map((r) => r.appendsPerSec)))}-${Math.round(Math.max(...rs.map((r) => r.appendsPerSec)))}`;
    console.log(
      `| ${sc.name} | ${m((r) => r.appendsPerSec)} (${range}) | ${m((r) => r.fsyncsPerSec)} | ${median(rs.map((r) => r.entriesPerFsync)).toFixed(1)} | ${m((r) => r.p50us)} | ${m((r) => r.p99us)} | ${m((r) => r.fsyncUs)} | ${m((r) => r.overheadUsPerBatch)} | ${median(rs.map((r) => r.cpuUsPerAppend)).toFixed(1)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
