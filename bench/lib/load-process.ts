/**
 * Parent-side handle on a load-generator child (load-worker.ts): start it,
 * send it workloads, read back measurements, stop it. Children are killed
 * by PID if this process exits without stopping them.
 */
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { killOnExit } from '../../src/testing/child-processes';
import type { FromWorker, LoadWorkerConfig, ToWorker } from './load-protocol';
import type { RunResult, RunSpec } from './workloads';

const WORKER = path.join(__dirname, 'load-worker.ts');
/**
 * How measured processes (load generators, our server) load TypeScript: the
 * harness's transpile-once require hook, not ts-node. ts-node loads Node's
 * `domain` module (which wraps every EventEmitter emit and callback) and
 * source-map-support hooks on process.emit; both add per-event costs that
 * compiled JavaScript in production does not pay, and would blur the CPU
 * per op of the load generators and of our server.
 */
export const TRANSPILE_HOOK = path.resolve(__dirname, '..', '..', 'test', 'harness', 'transpile-cache-register.js');
const READY_TIMEOUT_MS = 60_000;
/** Beyond a run's own budget and the worker's stall timeout: the worker itself is stuck. */
const RUN_GRACE_MS = 40_000;

export class LoadProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private stderrTail = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly config: LoadWorkerConfig) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-4000);
    });
    child.stdout?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-4000);
    });
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'result' || (msg.type === 'failed' && msg.id !== null)) {
        const w = this.waiting.get(msg.id!);
        if (!w) return;
        this.waiting.delete(msg.id!);
        if (msg.type === 'result') w.resolve(msg.result);
        else w.reject(new Error(msg.message));
      }
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values()) {
        w.reject(new Error(`load process exited (code ${code}, signal ${signal})\n${this.stderrTail}`));
      }
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Forks a worker and waits until it is connected and has created its nodes. */
  static async start(config: LoadWorkerConfig): Promise<LoadProcess> {
    const child = fork(WORKER, [JSON.stringify(config)], {
      // TRANSPILE_HOOK rather than ts-node: see there for why.
      execArgv: ['--expose-gc', '-r', TRANSPILE_HOOK],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    killOnExit(child);
    const lp = new LoadProcess(child, config);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        child.on('message', (msg: FromWorker) => {
          if (msg.type === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (msg.type === 'failed' && msg.id === null) {
            clearTimeout(timer);
            reject(new Error(msg.message));
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`exited during start-up (code ${code}, signal ${signal})\n${lp.stderrTail}`));
        });
      });
    } catch (err) {
      await lp.kill();
      throw new Error(`${config.impl} load process against ${config.connectString}: ${(err as Error).message}`);
    }
    return lp;
  }

  /** Runs one workload in the child; rejects with the child's error, or if the child is stuck. */
  run(spec: RunSpec): Promise<RunResult> {
    if (this.exited) return Promise.reject(new Error(`load process ${this.pid} has exited\n${this.stderrTail}`));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${spec.kind}: no answer from load process ${this.pid} within ${spec.maxMs + RUN_GRACE_MS} ms`));
        void this.kill();
      }, spec.maxMs + RUN_GRACE_MS);
      this.waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const msg: ToWorker = { type: 'run', id, spec };
      this.child.send(msg);
    });
  }

  /** Asks the child to close its sessions and exit; SIGKILL if it has not within 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'close' } satisfies ToWorker);
    } catch {
      /* channel already closed */
    }
    const timer = setTimeout(() => void this.kill(), 5000);
    await gone;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }
}
