/**
 * The testing kit's examples for the other runners pass as child
 * processes, run the way their docs say: node's test runner on a
 * ts-node-registered file, and vitest (a devDependency) on its example.
 * A runner's non-zero exit, or a summary without one passed test, fails
 * this test with the runner's whole output.
 */
import { execFile } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 120_000, killSignal: 'SIGKILL', env: { ...process.env, CI: '1', NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

test('node --test runs examples/testing/node-test.test.ts and it passes', async () => {
  const r = await run(['--require', 'ts-node/register/transpile-only', '--test', 'examples/testing/node-test.test.ts']);
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.stringMatching(/^# pass 1$[\s\S]*^# fail 0$/m) });
}, 150_000);

test('vitest runs examples/testing/vitest.test.ts and it passes', async () => {
  const r = await run([path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'examples/testing/vitest.test.ts']);
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.stringMatching(/Tests\s+1 passed \(1\)/) });
}, 150_000);
