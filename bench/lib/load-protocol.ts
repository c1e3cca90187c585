/** Messages between a benchmark orchestrator and its load-generator child (IPC channel). */
import type { ClientImpl } from './bench-clients';
import type { RunResult, RunSpec } from './workloads';

export interface LoadWorkerConfig {
  impl: ClientImpl;
  connectString: string;
  /**
   * Optional: session i connects to connectStrings[i % length] instead of
   * connectString (e.g. one member of an ensemble each, to spread sessions
   * over the members deterministically, or to keep them on followers).
   */
  connectStrings?: string[];
  /** Client handles (sessions) the load is spread over. */
  sessions: number;
  /** Bytes per node payload (getData reads it, setData and create write it). */
  payloadBytes: number;
  /** Distinguishes this worker's nodes from every other worker's. */
  label: string;
}

export type ToWorker =
  | { type: 'run'; id: number; spec: RunSpec }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'failed'; id: number | null; message: string };
