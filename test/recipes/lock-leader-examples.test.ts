/**
 * examples/lock.ts and examples/leader.ts typecheck and run: once on an
 * embedded server (ZK_CONNECT unset) and once against Apache ZooKeeper 3.8
 * given by ZK_CONNECT. Each example exits non-zero when its own check fails.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { Cluster, startTarget, targets } from '../harness';
import { START_TIMEOUT } from './support/recipe-fixtures';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES = ['examples/lock.ts', 'examples/leader.ts'];

function run(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), '--transpile-only', file],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 90_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => (err ? reject(new Error(`${file}: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

describe('recipe examples', () => {
  test('they typecheck', async () => {
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node', '--esModuleInterop', '--skipLibCheck', '--types', 'node', ...EXAMPLES],
        { cwd: ROOT, timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${stdout}\n${stderr}`)) : resolve()),
      ),
    );
  }, 150_000);

  test('they run on an embedded server', async () => {
    const lock = await run(EXAMPLES[0], { ZK_CONNECT: undefined });
    expect(lock).toContain('counter = 20');
    const leader = await run(EXAMPLES[1], { ZK_CONNECT: undefined });
    expect(leader.match(/leaders now: \w+\n/g)).toHaveLength(3);
  }, 120_000);

  if (targets().includes('apache')) {
    describe('against Apache ZooKeeper given by ZK_CONNECT', () => {
      let cluster: Cluster;
      beforeAll(async () => {
        cluster = await startTarget('apache', { tickTime: 500 });
      }, START_TIMEOUT);
      afterAll(async () => {
        await cluster?.stop();
      });
      test('lock and leader', async () => {
        expect(await run(EXAMPLES[0], { ZK_CONNECT: cluster.connectString })).toContain('counter = 20');
        expect((await run(EXAMPLES[1], { ZK_CONNECT: cluster.connectString })).match(/leaders now: \w+\n/g)).toHaveLength(3);
      }, 120_000);
    });
  }
});
