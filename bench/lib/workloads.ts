/**
 * The workloads both benchmarks run, and the windowed load loop under them.
 * Everything here runs inside a load-generator child process (load-worker.ts)
 * so that process.cpuUsage() counts one client library and nothing else.
 *
 * Every run is bounded twice: by an op count and by a time budget; a run
 * whose replies stop coming fails after a stall timeout instead of hanging.
 */
import { performance } from 'perf_hooks';
import type { BenchClient, Done } from './bench-clients';
import { percentileSorted } from './stats';

export type WorkloadKind = 'get-seq' | 'get-pipelined' | 'set-pipelined' | 'set-seq' | 'create-delete';

export interface RunSpec {
  kind: WorkloadKind;
  /** Upper bound on operations (pairs for create-delete). */
  ops: number;
  /** Operations kept in flight (1 = sequential, with per-op latency). */
  window: number;
  /** Time budget: no new operation starts after it; in-flight ones drain. */
  maxMs: number;
}

export interface RunResult {
  kind: WorkloadKind;
  /** Completed operations (pairs for create-delete). */
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  /** This process's user+system CPU over the run, per operation. */
  cpuUsPerOp: number;
  /** The user-space and kernel parts of cpuUsPerOp (socket syscalls land in the kernel part). */
  cpuUserUsPerOp: number;
  cpuSysUsPerOp: number;
  /** Sequential runs only: latency percentiles in microseconds. */
  p50Us?: number;
  p99Us?: number;
}

/** Node paths one load process works under (each process gets its own, so runs never collide). */
export interface WorkPaths {
  /** A node holding the payload, read by get-* and written by set-*. */
  dataNode: string;
  /** Parent of the create-delete nodes. */
  pairsParent: string;
}

/** What a workload's throughput counts: create-delete counts pairs. */
export function throughputUnit(kind: WorkloadKind): string {
  return kind === 'create-delete' ? 'pairs/s' : 'ops/s';
}

/** Stall timeout after the time budget: replies that never come fail the run. */
const DRAIN_MS = 20_000;

let runSeq = 0;

/**
 * Runs one workload across `clients` (op i goes to client i % n) and
 * measures it. Rejects with the first client error or on a stall.
 */
export async function runWorkload(clients: BenchClient[], paths: WorkPaths, payload: Buffer, spec: RunSpec): Promise<RunResult> {
  const n = clients.length;
  const run = ++runSeq;
  let issue: (i: number, done: Done) => void;
  switch (spec.kind) {
    case 'get-seq':
    case 'get-pipelined':
      issue = (i, done) => clients[i % n].getData(paths.dataNode, done);
      break;
    case 'set-seq':
    case 'set-pipelined':
      issue = (i, done) => clients[i % n].setData(paths.dataNode, payload, done);
      break;
    case 'create-delete':
      issue = (i, done) => {
        const c = clients[i % n];
        const p = `${paths.pairsParent}/r${run}-${i}`;
        c.create(p, payload, (err) => (err ? done(err) : c.remove(p, done)));
      };
      break;
    default:
      throw new Error(`unknown workload ${String(spec.kind)}`);
  }

  // Start from a collected heap so one run's garbage is not billed to the next.
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const out = await windowed(spec.ops, spec.window, spec.maxMs, spec.window === 1, issue);
  const cpu = process.cpuUsage(cpu0);
  const result: RunResult = {
    kind: spec.kind,
    ops: out.completed,
    elapsedMs: out.elapsedMs,
    opsPerSec: out.completed / (out.elapsedMs / 1000),
    cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, out.completed),
    cpuUserUsPerOp: cpu.user / Math.max(1, out.completed),
    cpuSysUsPerOp: cpu.system / Math.max(1, out.completed),
  };
  if (out.latenciesUs) {
    const sorted = out.latenciesUs.sort();
    result.p50Us = percentileSorted(sorted, 50);
    result.p99Us = percentileSorted(sorted, 99);
  }
  return result;
}

interface WindowOutcome {
  completed: number;
  elapsedMs: number;
  latenciesUs?: Float64Array;
}

/**
 * Keeps up to `window` operations in flight until `total` have been issued
 * or `maxMs` has passed, then waits for the in-flight ones.
 */
function windowed(
  total: number,
  window: number,
  maxMs: number,
  recordLatency: boolean,
  issue: (i: number, done: Done) => void,
): Promise<WindowOutcome> {
  return new Promise((resolve, reject) => {
    const latencies = recordLatency ? new Float64Array(total) : undefined;
    let started = 0;
    let completed = 0;
    let inFlight = 0;
    let stopping = false;
    let settled = false;
    let failure: Error | undefined;
    let opStart = 0;
    const t0 = performance.now();
    const deadline = t0 + maxMs;

    const stall = setTimeout(() => {
      settle(new Error(
        `stalled: ${inFlight} of ${started} operations still unanswered ${DRAIN_MS} ms after the ${maxMs} ms budget (${completed} completed)`,
      ));
    }, maxMs + DRAIN_MS);

    function settle(err?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      const elapsedMs = performance.now() - t0;
      if (err) reject(err);
      else resolve({ completed, elapsedMs, latenciesUs: latencies?.subarray(0, completed) });
    }

    function onDone(err: Error | null): void {
      inFlight--;
      if (err) {
        failure ??= err;
        stopping = true;
      } else {
        if (latencies) latencies[completed] = (performance.now() - opStart) * 1000;
        completed++;
        // Reading the clock costs; every 32nd completion is often enough to honour the budget.
        if ((completed & 31) === 0 && performance.now() > deadline) stopping = true;
      }
      pump();
    }

    function pump(): void {
      while (!stopping && inFlight < window && started < total) {
        inFlight++;
        const i = started++;
        if (latencies) opStart = performance.now();
        try {
          issue(i, onDone);
        } catch (err) {
          // A client that throws synchronously (bad argument) fails the run like an error reply.
          onDone(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
      if (inFlight === 0) settle(failure);
    }

    pump();
  });
}
