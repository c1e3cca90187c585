/**
 * examples/config-watch.ts and examples/queue.ts: type-checked with the
 * project's compiler options, then run as programs against each target
 * (ZK_CONNECT) and once with no ZK_CONNECT (their embedded server); each
 * must exit 0 and print what it promises.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cluster, startTarget } from '../harness';
import { START_TIMEOUT, targets } from './support/recipe-fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = ['examples/config-watch.ts', 'examples/queue.ts'];
const REGISTER = path.join(ROOT, 'test', 'harness', 'transpile-cache-register.js');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Runs an example the way a user would, minus ts-node's start-up (transpiled, cached). */
function runExample(file: string, connect: string | undefined): Promise<{ code: number; out: string }> {
  const env = { ...process.env };
  delete env.ZK_CONNECT;
  if (connect !== undefined) env.ZK_CONNECT = connect;
  return run(process.execPath, ['-r', REGISTER, path.join(ROOT, file)], env, 60_000);
}

function expectOutput(file: string, r: { code: number; out: string }): void {
  expect({ file, code: r.code, out: r.out }).toMatchObject({ file, code: 0 });
  if (file.endsWith('config-watch.ts')) {
    expect(r.out).toMatch(/config changed: \{"version":3,"featureX":true\}/);
    expect(r.out).toMatch(/final config version 3 after 3 changes/);
  } else {
    expect(r.out).toMatch(/jobs done: 6, distinct: 6/);
    expect(r.out).toMatch(/worker B holds "resize image 42", finishes, acks it/);
    expect(r.out).toMatch(/tasks left: 0/);
  }
}

test('the examples type-check', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-tsc-'));
  try {
    const cfg = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(cfg, JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: ROOT, typeRoots: [path.join(ROOT, 'node_modules', '@types')] }, files: EXAMPLES.map((f) => path.join(ROOT, f)), include: [] }));
    const r = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cfg], process.env, 120_000);
    // Only the examples' own errors count here; the rest of the tree is npm test's tsc step.
    const own = r.out.split('\n').filter((l) => l.startsWith('examples/') || l.includes(`${path.sep}examples${path.sep}`));
    expect(own).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);

test.each(EXAMPLES)('%s runs with its embedded server', async (file) => {
  expectOutput(file, await runExample(file, undefined));
}, 90_000);

describe.each(targets())('examples against %s', (kind) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
  }, START_TIMEOUT);
  afterAll(async () => {
    await cluster?.stop();
  });

  test.each(EXAMPLES)('%s runs against ZK_CONNECT', async (file) => {
    expectOutput(file, await runExample(file, cluster.connectString));
  }, 90_000);
});
