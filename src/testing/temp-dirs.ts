/**
 * Temp directories for server data, configs and logs (the testing kit's and
 * test/harness's). Why a registry: a test that fails before its close()
 * still must not leave data behind, so every directory made here is also
 * removed when the process exits, unless ZK_TEST_KEEP_DIRS=1 (handy for
 * reading a failed run's server logs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const live = new Set<string>();
let hookInstalled = false;

/** True when ZK_TEST_KEEP_DIRS=1: temp directories are kept for post-mortems instead of removed. */
export const keepDirs = process.env.ZK_TEST_KEEP_DIRS === '1';

/** Creates a fresh directory under `parent` (default the OS temp dir), e.g. makeTempDir('zk-apache-'). */
export function makeTempDir(prefix: string, parent: string = os.tmpdir()): string {
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      if (keepDirs) return;
      for (const d of live) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  live.add(dir);
  return dir;
}

/** Removes a directory made by makeTempDir (kept when ZK_TEST_KEEP_DIRS=1). */
export function removeTempDir(dir: string): void {
  live.delete(dir);
  if (!keepDirs) fs.rmSync(dir, { recursive: true, force: true });
}

/** The last `lines` lines of a text file, or '' when it does not exist. */
export function tailFile(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
