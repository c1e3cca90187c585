/**
 * Load-generator child process: one client library, its own CPU account.
 *
 *   node --expose-gc -r ./test/harness/transpile-cache-register.js bench/lib/load-worker.ts '<LoadWorkerConfig json>'
 *
 * Connects, creates its nodes, says `ready`, then runs each workload the
 * parent sends over IPC and answers with the measurements. Exits when told
 * to close or when the parent goes away.
 */
import * as fs from 'fs';
import { Session } from 'inspector';
import * as path from 'path';
import { BenchClient, connectClient, ensureNode, setNode } from './bench-clients';
import type { FromWorker, LoadWorkerConfig, ToWorker } from './load-protocol';
import { runWorkload, WorkPaths } from './workloads';

const CONNECT_TIMEOUT_MS = 20_000;

/**
 * BENCH_CPU_PROF_DIR=<dir>: every run is CPU-profiled (V8 sampling profiler,
 * started and stopped around the run only, so start-up and TypeScript
 * transpiling stay out) and written as <dir>/<label>-<kind>-<n>.cpuprofile.
 * Summarise one with `npx ts-node bench/profile-top.ts <file>`. The
 * profiler costs CPU of its own: do not quote numbers from profiled runs.
 */
const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR ? path.resolve(process.env.BENCH_CPU_PROF_DIR) : undefined;
let inspector: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    inspector!.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run();
  if (!inspector) {
    inspector = new Session();
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
  }
  await post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await post<{ profile: unknown }>('Profiler.stop');
    fs.writeFileSync(path.join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

/** Sends to the parent; resolves once the message has left, so an exit right after cannot drop it. */
function send(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(msg, undefined, undefined, () => resolve());
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code !== undefined ? ` (code ${String(code)})` : ''}: ${err.message}\n${err.stack ?? ''}`;
  }
  return String(err);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('load-worker must be started with an IPC channel (child_process.fork)');
  const cfg = JSON.parse(process.argv[2]) as LoadWorkerConfig;
  const payload = Buffer.alloc(cfg.payloadBytes, 0x61);
  const clients: BenchClient[] = [];
  let closing = false;

  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    // A client whose close() hangs must not keep the benchmark waiting.
    const closes = Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.race([closes, new Promise((r) => setTimeout(r, 3000).unref())]);
    process.exit(code);
  };
  process.on('disconnect', () => void shutdown(1));

  try {
    const spread = cfg.connectStrings && cfg.connectStrings.length > 0 ? cfg.connectStrings : undefined;
    for (let i = 0; i < cfg.sessions; i++) {
      const cs = spread ? spread[i % spread.length] : cfg.connectString;
      clients.push(await connectClient(cfg.impl, cs, CONNECT_TIMEOUT_MS));
    }
    const base = `/zkbench-${cfg.label}-${process.pid}`;
    const paths: WorkPaths = { dataNode: `${base}/data`, pairsParent: `${base}/pairs` };
    await ensureNode(clients[0], base, Buffer.alloc(0));
    await ensureNode(clients[0], paths.dataNode, payload);
    await setNode(clients[0], paths.dataNode, payload);
    await ensureNode(clients[0], paths.pairsParent, Buffer.alloc(0));
    // Sessions on other ensemble members: a write's reply from a member means that member has
    // applied everything before it, so the nodes above are there for its reads (no NoNode from a lagging follower).
    if (spread) for (const c of clients.slice(1)) await setNode(c, paths.dataNode, payload);

    process.on('message', (msg: ToWorker) => {
      if (msg.type === 'close') {
        void shutdown(0);
        return;
      }
      profiled(`${cfg.label}-${msg.spec.kind}-${msg.id}`, () => runWorkload(clients, paths, payload, msg.spec)).then(
        (result) => send({ type: 'result', id: msg.id, result }),
        (err) => send({ type: 'failed', id: msg.id, message: describe(err) }),
      );
    });
    await send({ type: 'ready', pid: process.pid });
  } catch (err) {
    await send({ type: 'failed', id: null, message: describe(err) });
    await shutdown(2);
  }
}

main().catch((err) => {
  console.error(describe(err));
  process.exit(3);
});
