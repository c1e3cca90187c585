/**
 * bin/zk-server as an operator runs it: start (daemon), status, stop,
 * start-foreground + SIGTERM, and a failed start. Loopback and free ports only.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { sendFourLetterWord } from '../../../src/cli/four-letter-client';
import { pidAlive } from '../../harness/child-processes';

const BIN = path.resolve(__dirname, '../../../bin/zk-server');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, ZOO_START_TIMEOUT: '25', ...env },
    encoding: 'utf8',
    timeout: 40_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

jest.setTimeout(90_000);

describe('zk-server start / status / stop', () => {
  let dir: string;
  let port: number;
  let startedPid: number | null = null;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkserver-'));
    port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'zoo.cfg'),
      `tickTime=2000\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=ruok,srvr\n`,
    );
  });

  afterEach(() => {
    // Never leave a daemon behind, even when an assertion failed half-way.
    if (startedPid !== null && pidAlive(startedPid)) process.kill(startedPid, 'SIGKILL');
    startedPid = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('start daemonizes with a pid file, status reports Mode: standalone, stop ends the process', async () => {
    const started = run(['start', 'zoo.cfg'], dir);
    expect(started.out).toBe('Starting zookeeper ... STARTED\n');
    expect(started.code).toBe(0);
    const pidFile = path.join(dir, 'data', 'zookeeper_server.pid');
    startedPid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pidAlive(startedPid)).toBe(true);

    expect(await sendFourLetterWord('127.0.0.1', port, 'ruok')).toBe('imok');

    const again = run(['start', 'zoo.cfg'], dir);
    expect(again.code).toBe(1);
    expect(again.out).toBe(`Starting zookeeper ... already running as process ${startedPid}.\n`);

    const status = run(['status', 'zoo.cfg'], dir);
    expect(status.code).toBe(0);
    expect(status.out).toBe(`Client port found: ${port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);

    const stopped = run(['stop', 'zoo.cfg'], dir);
    expect(stopped.code).toBe(0);
    expect(stopped.out).toBe('Stopping zookeeper ... STOPPED\n');
    expect(pidAlive(startedPid)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
    // The shutdown was clean: the log says the server closed.
    expect(fs.readFileSync(path.join(dir, 'data', 'zookeeper-server.out'), 'utf8')).toMatch(/SIGTERM received; shutting down[\s\S]*server closed/);

    const down = run(['status', 'zoo.cfg'], dir);
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/Error contacting service. It is probably not running.\n$/);
  });

  it('restart stops the running server and starts a new one', () => {
    expect(run(['start', 'zoo.cfg'], dir).code).toBe(0);
    const pidFile = path.join(dir, 'data', 'zookeeper_server.pid');
    const first = Number(fs.readFileSync(pidFile, 'utf8'));
    startedPid = first;
    const restarted = run(['restart', 'zoo.cfg'], dir);
    expect(restarted.out).toBe('Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n');
    const second = Number(fs.readFileSync(pidFile, 'utf8'));
    startedPid = second;
    expect(second).not.toBe(first);
    expect(pidAlive(first)).toBe(false);
    expect(run(['stop', 'zoo.cfg'], dir).code).toBe(0);
  });

  it('a start that cannot bind fails with the log tail and leaves no pid file', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const r = run(['start', 'zoo.cfg'], dir);
      expect(r.code).toBe(1);
      expect(r.out).toBe('Starting zookeeper ... FAILED TO START\n');
      expect(r.err).toMatch(/last lines of .*zookeeper-server.out/);
      expect(r.err).toMatch(/EADDRINUSE|address already in use/i);
      expect(fs.existsSync(path.join(dir, 'data', 'zookeeper_server.pid'))).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('start-foreground serves until SIGTERM, then closes cleanly and exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'start-foreground', 'zoo.cfg'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    startedPid = child.pid ?? null;
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 25_000;
    while (!out.includes('serving on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(`serving on 127.0.0.1:${port}`);
    expect((await sendFourLetterWord('127.0.0.1', port, 'srvr')).split('\n')).toContain('Mode: standalone');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM received; shutting down[\s\S]*server closed/);
  });
});
