/**
 * Issue 12: `npm start` passes SIGTERM and Ctrl-C to the server (since
 * issue 9: to the demo, which stops its app and then every member process). It used to
 * run ts-node through `sh -c`; npm forwarded SIGTERM to the shell, the shell
 * died and the server was left orphaned and listening. These tests run the
 * real `npm start` (prestart build included) in its own process group with
 * ZK_PORT=0 and ZK_DATA_DIR in a temp dir, then signal it the two ways a
 * person does: SIGTERM to npm only (a process manager), and SIGINT to the
 * whole group (Ctrl-C in a terminal).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { pidAlive } from '../../harness/child-processes';

const ROOT = path.resolve(__dirname, '../../..');

jest.setTimeout(240_000);

/** Pids whose parent is `pid` (Linux /proc), to prove nothing is left behind. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}\n${detail()}`);
}

interface NpmStart {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process npm execs (src/cli/start.ts), parent of the members. */
  startPid: number;
  /** Each member's pid and client port, from its "starting on" line. */
  members: Array<{ pid: number; port: number }>;
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

let dir: string;
const groups: number[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-npm-start-'));
});

afterEach(() => {
  // Only the process groups these tests started (npm is their leader).
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function npmStart(args: string[] = []): Promise<NpmStart> {
  let out = '';
  const npm = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    cwd: ROOT,
    env: { ...process.env, ZK_PORT: '0', ZK_DATA_DIR: path.join(dir, 'data'), npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as a terminal's foreground job
  });
  groups.push(npm.pid!);
  npm.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  npm.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  await waitFor('the npm start banner', () => done || /connect string: /.test(out), 180_000, () => out);
  // One line per ensemble member, each its own process: its port and pid.
  const members = [...out.matchAll(/ensemble member \d+ \(\w+\) starting on 127\.0\.0\.1:(\d+), pid (\d+)/g)].map((m) => ({ port: Number(m[1]), pid: Number(m[2]) }));
  if (members.length !== 4 || !/connect string: /.test(out)) throw new Error(`npm start did not serve:\n${out}`);
  return { npm, output: () => out, exited, startPid: parentOf(members[0].pid), members };
}

async function expectAllGone(s: NpmStart): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const { code, signal } = await Promise.race([
    s.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm did not exit:\n${s.output()}`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  for (const m of s.members) {
    await waitFor(`member pid ${m.pid} to end`, () => !pidAlive(m.pid), 30_000, s.output);
    expect(await portIsFree(m.port)).toBe(true);
  }
  expect(pidAlive(s.startPid)).toBe(false);
  expect(childrenOf(s.npm.pid!)).toEqual([]);
  expect(s.output()).toContain('every check held; all servers stopped');
  // Every member's directory is given back on a clean stop.
  const members = fs.readdirSync(path.join(dir, 'data'));
  expect(members.sort()).toEqual(['1', '2', '3', '4']);
  for (const m of members) expect(fs.existsSync(path.join(dir, 'data', m, 'zookeeper-ts.lock'))).toBe(false);
}

describe('npm start and signals', () => {
  it('SIGTERM to npm closes the server: port free, no process left', async () => {
    const s = await npmStart();
    // npm runs the script with `exec`: the shell becomes our process, so npm's signal reaches it.
    expect(childrenOf(s.npm.pid!)).toEqual([s.startPid]);
    expect(childrenOf(s.startPid).sort()).toEqual(s.members.map((m) => m.pid).sort());
    s.npm.kill('SIGTERM');
    await expectAllGone(s);
    expect(s.output()).toContain('SIGTERM received; stopping the demo and the servers');
  });

  it('Ctrl-C (SIGINT to the whole process group) closes the server once, cleanly', async () => {
    const s = await npmStart();
    // The terminal signals every process of the group, and npm forwards it too: the server sees SIGINT twice.
    process.kill(-s.npm.pid!, 'SIGINT');
    await expectAllGone(s);
    expect(s.output()).toContain('SIGINT received; stopping the demo and the servers');
    expect(s.output()).not.toContain('exiting now');
  });

  it('npm start -- --once: the demo kills the leading server, a new one leads, the old one rejoins, every check holds', async () => {
    const s = await npmStart(['--once']);
    await expectAllGone(s);
    const out = s.output();
    expect(out).toMatch(/killed server (\d), the leader, with kill -9/);
    const killed = /killed server (\d), the leader/.exec(out)![1];
    expect(out).toMatch(/server \d leads the ensemble \(\d+ ms after the kill\)/);
    expect(out).toContain(`server ${killed} rejoined as a follower`);
    expect(out).toMatch(/stopped: [1-9]\d* lock hand-offs, counter at [1-9]\d*, 1 server election\(s\), 0 violation\(s\)/);
  });
});
