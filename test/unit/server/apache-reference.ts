/**
 * Starts the real Apache ZooKeeper 3.8 (Debian package) standalone on a free
 * loopback port, for tests that compare our server's replies with Apache's.
 * The process is ours: it is stopped by its pid in stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const JAVA = '/usr/bin/java';
const CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

export function apacheAvailable(): boolean {
  return fs.existsSync(JAVA) && fs.existsSync(CLASSPATH[0]);
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface ApacheServer {
  port: number;
  dir: string;
  /** The dataDir it runs on (removed by stop() unless the caller supplied it). */
  dataDir: string;
  /** kill -9 (Apache has fsynced every acknowledged write), then removes what start created. */
  stop(): Promise<void>;
}

export interface StartApacheOptions {
  tickTime?: number;
  extra?: Record<string, string>;
  sysProps?: Record<string, string>;
  /** Run on this existing dataDir (e.g. one our server wrote); it is left in place by stop(). */
  dataDir?: string;
}

export async function startApache(opts: StartApacheOptions = {}): Promise<ApacheServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-apache-ref-'));
  const port = await freePort();
  const cfg = {
    tickTime: String(opts.tickTime ?? 2000),
    dataDir: opts.dataDir ?? path.join(dir, 'data'),
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...(opts.extra ?? {}),
  };
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  const cfgFile = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'log4j.properties'), 'log4j.rootLogger=WARN, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n' +
    `log4j.appender.F.File=${path.join(dir, 'zk.log')}\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\n`);
  const props = Object.entries({ 'zookeeper.admin.enableServer': 'false', ...(opts.sysProps ?? {}) }).map(([k, v]) => `-D${k}=${v}`);
  const child: ChildProcess = spawn(
    JAVA,
    ['-Xmx256m', '-XX:+UseSerialGC', `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, ...props, '-cp', [dir, ...CLASSPATH].join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = fs.existsSync(path.join(dir, 'zk.log')) ? fs.readFileSync(path.join(dir, 'zk.log'), 'utf8').slice(-4000) : '';
      throw new Error(`Apache ZooKeeper exited with ${child.exitCode}\n${log}`);
    }
    if (await serving(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('Apache ZooKeeper did not start in 30s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    dir,
    dataDir: cfg.dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** srvr answers with stats only once the server serves requests (ruok says imok earlier). */
function serving(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => s.write('srvr'));
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out.includes('Zxid:')));
    s.on('error', () => resolve(false));
    setTimeout(() => s.destroy(), 1000);
  });
}
