/**
 * Issue 12, "the dev server never loses data by accident": a server locks its
 * dataDir (and dataLogDir). Two `npm start` servers on one data directory
 * used to share it, and the next start cut acknowledged writes off. Now the
 * second refuses to start naming the first, and a lock left by a killed
 * server (kill -9) is taken over without any clean-up by hand.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src';
import { DataDirLock, DataDirLockedError, LOCK_FILE_NAME, processStartTime } from '../../../src/server/persist/data-dir-lock';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { pidAlive, spawnTracked, SpawnedProcess, terminate } from '../../harness/child-processes';

const ROOT = path.resolve(__dirname, '../../..');
const TRANSPILE_HOOK = path.join(ROOT, 'test', 'harness', 'transpile-cache-register.js');
const START = path.join(ROOT, 'src', 'cli', 'start.ts');

jest.setTimeout(120_000);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-lock-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid;
}

function writeLock(d: string, owner: object): void {
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, LOCK_FILE_NAME), JSON.stringify(owner));
}

describe('DataDirLock', () => {
  it('is exclusive within one process too, and free again after release', () => {
    const lock = DataDirLock.acquire([dir]);
    const file = path.join(fs.realpathSync(dir), LOCK_FILE_NAME);
    expect(lock.files).toEqual([file]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    const err = (() => {
      try {
        DataDirLock.acquire([path.join(dir, '.')]);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain('another server in this process');
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
    lock.release(); // idempotent
    DataDirLock.acquire([dir]).release();
  });

  it('locks dataDir and dataLogDir, all or nothing', () => {
    const data = path.join(dir, 'data');
    const logs = path.join(dir, 'logs');
    const first = DataDirLock.acquire([data, logs]);
    expect(first.files).toHaveLength(2);
    const other = path.join(dir, 'other');
    // The second server's dataDir is free but its dataLogDir is not: it gets neither.
    expect(() => DataDirLock.acquire([other, logs])).toThrow(DataDirLockedError);
    expect(fs.existsSync(path.join(other, LOCK_FILE_NAME))).toBe(false);
    first.release();
    const second = DataDirLock.acquire([other, logs]);
    second.release();
  });

  it('takes over the lock of a process that is gone', () => {
    const pid = deadPid();
    writeLock(dir, { pid, startTime: '1', host: os.hostname(), token: 'stale', since: 'earlier' });
    const lock = DataDirLock.acquire([dir]);
    expect(JSON.parse(fs.readFileSync(lock.files[0], 'utf8')).pid).toBe(process.pid);
    lock.release();
    // Nothing but the data remains: no moved-aside or candidate files.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a live holder, naming it, and takes over when that pid now belongs to another process', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid!;
      const started = processStartTime(pid);
      writeLock(dir, { pid, startTime: started, host: os.hostname(), token: 'live', since: 'earlier' });
      let err: unknown = null;
      try {
        DataDirLock.acquire([dir]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as DataDirLockedError).owner?.pid).toBe(pid);
      expect((err as Error).message).toContain(`process ${pid}`);
      expect((err as Error).message).toContain(dir);
      if (started !== null) {
        // Same pid, another start time: the holder died and its pid was reused.
        writeLock(dir, { pid, startTime: String(Number(started) + 1), host: os.hostname(), token: 'recycled', since: 'earlier' });
        DataDirLock.acquire([dir]).release();
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('refuses a lock file it cannot read rather than guess', () => {
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), 'not a lock');
    expect(() => DataDirLock.acquire([dir])).toThrow(/unreadable lock file/);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('not a lock');
  });

  it('FileTxnStore holds the lock from load() to close()', async () => {
    const a = new FileTxnStore({ dataDir: dir, fsync: false });
    await a.load();
    await expect(new FileTxnStore({ dataDir: dir, fsync: false }).load()).rejects.toBeInstanceOf(DataDirLockedError);
    await a.close();
    const b = new FileTxnStore({ dataDir: dir, fsync: false });
    await b.load();
    await b.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
  });
});

/** One dev server (src/cli/start.ts, what `npm start` runs) as a real process. */
class DevServer {
  readonly log: string;
  readonly proc: SpawnedProcess;

  constructor(dataDir: string, name: string) {
    this.log = path.join(dir, `${name}.log`);
    this.proc = spawnTracked(process.execPath, ['-r', TRANSPILE_HOOK, START], {
      cwd: ROOT,
      env: { ...process.env, ZK_PORT: '0', ZK_DATA_DIR: dataDir, ZK_DEMO: '0' },
      logFile: this.log,
    });
  }

  output(): string {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : '';
  }

  /** Resolves with the connect string once the banner is printed; rejects if the process exits first. */
  async serving(timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.proc.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      const m = /connect string: (\S+)/.exec(this.output());
      if (m) return m[1];
      if (exited) throw new Error(`dev server exited before serving:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dev server not serving after ${timeoutMs} ms:\n${this.output()}`);
  }
}

describe('two dev servers on one data directory (real processes)', () => {
  const started: DevServer[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await terminate(s.proc, 'SIGKILL');
  });

  it('the second refuses to start and the first keeps its data; after kill -9 of the first, a new one takes over', async () => {
    const data = path.join(dir, 'data');
    const first = new DevServer(data, 'first');
    started.push(first);
    const cs = await first.serving();

    const zk = new ZooKeeper(cs);
    try {
      await zk.connected();
      await zk.create('/kept', Buffer.from('acknowledged'));
    } finally {
      await zk.close();
    }

    const second = new DevServer(data, 'second');
    started.push(second);
    const { code } = await second.proc.exited;
    expect(code).toBe(1);
    const out = second.output();
    // npm start runs the local ensemble, a process per member: each locks its own directory under ZK_DATA_DIR.
    const memberPids = [...first.output().matchAll(/ensemble member \d+ \(\w+\) starting on \S+, pid (\d+)/g)].map((m) => Number(m[1]));
    expect(memberPids).toHaveLength(4);
    expect(out).toContain('npm start: could not start the server');
    expect(out).toMatch(new RegExp(`${path.join(data, '\\d').replace(/\//g, '\\/')} is in use by process (${memberPids.join('|')})`));
    expect(out).not.toContain('connect string');

    // kill -9 leaves the lock file behind; the next server sees its owner is gone.
    for (const m of ['1', '2', '3', '4']) expect(fs.existsSync(path.join(data, m, LOCK_FILE_NAME))).toBe(true);
    await terminate(first.proc, 'SIGKILL');
    // Its members die with it (parent-death signal), leaving their lock files behind.
    for (const pid of memberPids) {
      for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(pidAlive(pid)).toBe(false);
    }
    const third = new DevServer(data, 'third');
    started.push(third);
    const cs3 = await third.serving();
    const zk3 = new ZooKeeper(cs3);
    try {
      await zk3.connected();
      expect((await zk3.getData('/kept')).data?.toString()).toBe('acknowledged');
    } finally {
      await zk3.close();
    }
    // A clean stop gives the directory back.
    await terminate(third.proc, 'SIGTERM');
    expect(third.output()).toContain('server closed');
    for (const m of ['1', '2', '3', '4']) expect(fs.existsSync(path.join(data, m, LOCK_FILE_NAME))).toBe(false);
  });
});
