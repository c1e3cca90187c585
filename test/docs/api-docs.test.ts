/**
 * The API reference builds without a warning: every public export and member
 * has a doc comment, every {@link} resolves, and no public type refers to
 * one that is not exported (typedoc.json's validation, with
 * treatWarningsAsErrors). One typedoc run with `--emit none`: it converts
 * and validates but writes nothing (`npm run docs` writes docs/api).
 *
 * typedoc is ESM-only, so it runs as a child process rather than through
 * its Node API inside jest's CommonJS.
 */
import { execFile } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const TYPEDOC = path.join(path.dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');

interface Run {
  code: number;
  output: string;
}

function typedoc(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TYPEDOC, ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        // eslint-disable-next-line no-control-regex
        resolve({ code, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '') });
      },
    );
  });
}

describe('API reference (typedoc)', () => {
  it('builds with no warning: every public export documented, every link resolved', async () => {
    const run = await typedoc(['--emit', 'none']);
    // Every warning or error line, with the TypeScript diagnostics typedoc prints before them.
    const problems = run.output
      .split('\n')
      .filter((l) => /^\[(warning|error)\]/.test(l) || /error TS\d+/.test(l))
      .filter((l) => !/^\[error\] Found \d+ errors? and \d+ warnings?$/.test(l) && !/^\[warning\] Found \d+ errors? and \d+ warnings?$/.test(l));
    expect({ problems, exitCode: run.code }).toEqual({ problems: [], exitCode: 0 });
  }, 180_000);
});
