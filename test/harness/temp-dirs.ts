/**
 * Temp directories for server data, configs and logs. Removed when their
 * cluster stops; any still present when the process exits are removed then,
 * unless ZK_TEST_KEEP_DIRS=1 (handy for reading a failed run's server logs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const live = new Set<string>();
let hookInstalled = false;

export const keepDirs = process.env.ZK_TEST_KEEP_DIRS === '1';

/** Creates a fresh directory under the OS temp dir, e.g. makeTempDir('zk-apache-'). */
export function makeTempDir(prefix: string): string {
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      if (keepDirs) return;
      for (const d of live) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
