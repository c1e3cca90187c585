/**
 * Crash safety at the store level: a child process appends with fsync and
 * acknowledges on stdout; we kill -9 it mid-stream, reload, and every
 * acknowledged zxid must be there (and nothing out of order). Twice, so the
 * second run also recovers from the first run's cut tail and new log file.
 */
import * as path from 'path';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { spawnTracked, terminate } from '../../harness/child-processes';
import { rmDir, tempDir } from './persist-helpers';

jest.setTimeout(90_000);

async function runAndKill(dataDir: string, workDir: string, ackTarget: number): Promise<bigint[]> {
  const child = spawnTracked(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'crash-child.ts'), dataDir], {
    cwd: path.join(__dirname, '../../..'),
    logFile: path.join(workDir, 'child.log'),
    pipeStdout: true,
  });
  const acked: bigint[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) for (const z of line.slice(4).split(' ')) acked.push(BigInt(z));
      }
      if (acked.length >= ackTarget) {
        child.child.kill('SIGKILL');
        resolve();
      }
    });
    void child.exited.then(({ code, signal }) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited early: code ${code} signal ${signal}`));
    });
  });
  await terminate(child, 'SIGKILL');
  return acked;
}

test('every acknowledged append survives kill -9, across two crashes', async () => {
  const work = tempDir('zk-persist-crash-');
  const dataDir = path.join(work, 'data');
  try {
    const all: bigint[] = [];
    for (let round = 0; round < 2; round++) {
      all.push(...(await runAndKill(dataDir, work, 600)));
      const store = new FileTxnStore({ dataDir, fsync: false });
      const st = await store.load();
      const onDisk = new Set(st.txns.map((t) => t.header.zxid));
      const missing = all.filter((z) => !onDisk.has(z));
      expect({ round, missing }).toEqual({ round, missing: [] });
      // Loaded zxids are 1..last with no gaps (each append's entries are contiguous and acked in order of writing).
      const zs = st.txns.map((t) => t.header.zxid);
      expect(zs).toEqual(zs.map((_, i) => BigInt(i + 1)));
      console.log(`round ${round}: ${all.length} acked, ${zs.length} on disk, cut: ${JSON.stringify(store.lastLoadReport!.truncated.map((t) => t.reason))}`);
      await store.close();
    }
  } finally {
    rmDir(work);
  }
});
