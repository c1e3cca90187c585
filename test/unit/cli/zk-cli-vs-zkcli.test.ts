/**
 * Our shell and Apache's zkCli.sh (the Debian package's, 3.8) given the same
 * piped commands against the same live Apache server print the same lines,
 * on the same streams. Lines that cannot match are dropped from both sides
 * first: the JVM's logging noise, the banner, and the version string.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { apacheAvailable, startApache } from '../../harness';
import type { Cluster } from '../../harness';

jest.setTimeout(300_000);

const REPO = path.resolve(__dirname, '..', '..', '..');
const ZKCLI_SH = '/usr/share/zookeeper/bin/zkCli.sh';

/** Commands whose output does not depend on zxids or times (no stat blocks). */
const BATCH = [
  'create /cmp',
  'create /cmp/a hello',
  'create -e /cmp/eph',
  'getAllChildrenNumber /cmp',
  'getAllChildrenNumber /none',
  'getAllChildrenNumber',
  'getEphemerals /cmp',
  'get /cmp/a',
  'ls /cmp',
  'foo',
  'history',
  'printwatches',
  'printwatches off',
  'printwatches',
  'printwatches on',
  'redo 7',
  'redo 99',
  'config -c',
  'reconfig -add server.5=127.0.0.1:1:2;2181',
  'reconfig',
  'removewatches /cmp',
  'removewatches /cmp -x',
  'addWatch -m BAD /cmp',
  'addWatch -m PERSISTENT /cmp/a',
  'set /cmp/a changed',
  'removewatches /cmp/a',
  'setquota -n 5 /cmp',
  'setquota -n 5 -b 3 /cmp',
  'setquota -N 1 /cmp',
  'setquota -b -1 /cmp',
  'setquota -n x /cmp',
  'setquota -B 4 /cmp/a',
  'setquota -n 2 /none',
  'setquota -n 2 /zookeeper/quota/cmp',
  'listquota /cmp',
  'listquota /none',
  'listquota',
  'delquota -N /cmp',
  'listquota /cmp',
  'delquota -n -b /cmp',
  'delquota /cmp',
  'delquota /cmp',
  'ls /zookeeper/quota',
  'delete /cmp',
  'deleteall /cmp',
  'ls /',
  'help',
  'quit',
];

/** Lines either side prints that say nothing about the commands. */
function meaningful(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^SLF4J|log4j|^Connecting to |^Welcome to ZooKeeper!$|^JLine support is|^ZooKeeper CLI version: |^\s*$/.test(l)) continue;
    // The connection's own state event (not a watch a command set).
    if (l === 'WATCHER::') continue;
    if (/^WatchedEvent state:\w+ type:None path:null$/.test(l)) continue;
    out.push(l);
  }
  return out;
}

function runShell(command: string, args: string[], input: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(input);
  });
}

const describeApache = apacheAvailable() && fs.existsSync(ZKCLI_SH) ? describe : describe.skip;

describeApache('zk-cli against zkCli.sh, same commands, same Apache server', () => {
  let apache: Cluster;
  beforeAll(async () => {
    apache = await startApache({});
  });
  afterAll(async () => {
    await apache?.stop();
  });

  it('prints the same lines on stdout and on stderr', async () => {
    const input = BATCH.join('\n') + '\n';
    const theirs = await runShell(ZKCLI_SH, ['-server', apache.connectString], input);
    const ours = await runShell(process.execPath, [path.join(REPO, 'bin', 'zk-cli'), '-server', apache.connectString], input);
    expect(ours.code).toBe(0);
    const t = { stdout: meaningful(theirs.stdout), stderr: meaningful(theirs.stderr) };
    const o = { stdout: meaningful(ours.stdout), stderr: meaningful(ours.stderr) };
    // The reference really ran the batch (guards against comparing two empty outputs).
    expect(t.stdout).toContain('hello');
    expect(t.stdout).toContain('Output quota for /cmp count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=1');
    expect(t.stderr).toContain('KeeperErrorCode = Reconfig is disabled');
    expect(o).toEqual(t);
  });
});
