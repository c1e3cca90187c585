/**
 * Interop with kazoo (Debian python3-kazoo): a TS Mutex and a TS
 * LeaderElection in kazoo layout beside kazoo's Lock and Election on one
 * path never hold or lead at once; on our server and Apache ZooKeeper 3.8.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { ZooKeeper } from '../../src';
import { LeaderElection, Mutex } from '../../recipes';
import { Cluster, startTarget } from '../harness';
import { kazooAvailable, SYSTEM_PYTHON } from '../interop/kazoo-runner';
import { ExclusionRecord } from './support/exclusion-record';
import { Handles, sleep, START_TIMEOUT, targets, uniquePath } from './support/recipe-fixtures';

const ROUNDS = 8;
const HOLD_MS = 20;
const available = kazooAvailable();
if (!available) console.warn('interop-kazoo: python3-kazoo missing: apt-get install -y python3-kazoo');
const maybe = available ? describe.each(targets()) : describe.skip.each(targets());

/** Starts kazoo contender `j`; its HOLD/FREE lines go to `record`. */
function kazoo(hosts: string, kind: 'lock' | 'election', zkPath: string, j: number, record: ExclusionRecord) {
  const proc = spawn(SYSTEM_PYTHON, [path.join(__dirname, 'support', 'kazoo-contender.py'), hosts, kind, zkPath, String(ROUNDS), String(HOLD_MS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const output: string[] = [];
  let readyFn!: () => void;
  const ready = new Promise<void>((r) => (readyFn = r));
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      output.push(line);
      if (line === 'READY') readyFn();
      else if (line === 'HOLD') record.enter(`kazoo${j}`, BigInt(j + 1));
      else if (line === 'FREE') record.leave(`kazoo${j}`);
    }
  });
  proc.stderr.on('data', (d: Buffer) => output.push(`stderr: ${d.toString().trim()}`));
  const done = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, ready, done, output };
}

maybe('kazoo interop on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zks: ZooKeeper[];

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zks = await Promise.all([0, 1].map(() => handles.connect(cluster.connectString)));
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  async function contest(kazooKind: 'lock' | 'election', zkPath: string, tsRounds: (i: number, record: ExclusionRecord) => Promise<void>): Promise<void> {
    const record = new ExclusionRecord(1);
    const kz = [0, 1].map((j) => kazoo(cluster.connectString, kazooKind, zkPath, j, record));
    try {
      await Promise.all(kz.map((k) => k.ready));
      await Promise.all([0, 1].map((i) => tsRounds(i, record)));
      const codes = await Promise.all(kz.map((k) => k.done));
      expect({ codes, out: codes.some((c) => c !== 0) ? kz.map((k) => k.output.join('\n')) : [] }).toEqual({ codes: [0, 0], out: [] });
    } finally {
      for (const k of kz) if (k.proc.exitCode === null) k.proc.kill('SIGKILL');
    }
    expect(record.violations).toEqual([]);
    expect(record.total).toBe(4 * ROUNDS);
  }

  test('TS Mutex (kazoo layout) and kazoo Lock never hold at once', async () => {
    const p = uniquePath('kz-lock');
    await contest('lock', p, async (i, record) => {
      const m = new Mutex(zks[i], p, { layout: 'kazoo', data: `ts${i}` });
      for (let r = 0; r < ROUNDS; r++) {
        const hold = await m.acquire({ timeout: 60_000 });
        record.enter(`ts${i}`, 0n);
        await sleep(HOLD_MS);
        record.leave(`ts${i}`);
        await hold.release();
      }
    });
  }, 120_000);

  test('TS LeaderElection (kazoo layout) and kazoo Election never lead at once', async () => {
    const p = uniquePath('kz-elect');
    await contest('election', p, async (i, record) => {
      let terms = 0;
      let finished!: () => void;
      const allDone = new Promise<void>((r) => (finished = r));
      const e = new LeaderElection(
        zks[i],
        p,
        async () => {
          if (terms >= ROUNDS) return; // a requeued term racing close(): not counted
          record.enter(`ts${i}`, 0n);
          await sleep(HOLD_MS);
          record.leave(`ts${i}`);
          if (++terms === ROUNDS) finished();
        },
        { id: `ts${i}`, layout: 'kazoo', autoRequeue: true },
      );
      e.start();
      await allDone;
      await e.close();
    });
  }, 120_000);
});
