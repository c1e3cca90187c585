/**
 * zk-server: run our ZooKeeper server the way zkServer.sh runs Apache's.
 *
 *   zk-server [--config <dir>] [-Dkey=value ...] {start|start-foreground|stop|restart|status} [zoo.cfg]
 *
 * - Config file: the argument when it names an existing file, else
 *   $ZOOCFGDIR/<arg>; with no argument $ZOOCFGDIR/$ZOOCFG, where ZOOCFGDIR
 *   defaults to ./conf (or --config) and ZOOCFG to zoo.cfg.
 * - System properties: -D flags here, plus SERVER_JVMFLAGS and JVMFLAGS from
 *   the environment (see systemPropertiesFrom in src/server/config/system-properties.ts).
 * - start daemonizes: a detached `zk-server start-foreground` child logs to
 *   $ZOO_LOG_DIR/zookeeper-server.out (ZOO_LOG_DIR defaults to dataDir), its
 *   pid goes to $ZOOPIDFILE (default <dataDir>/zookeeper_server.pid), and
 *   start waits until `srvr` reports a Mode (srvr is always whitelisted, and
 *   unlike ruok it says "not serving" until the server is really up); on
 *   failure it prints the log tail and exits 1.
 * - stop sends SIGTERM to the pid and waits for the process to end (SIGKILL
 *   after ZOO_STOP_TIMEOUT seconds, default 30); status prints the `Mode:`
 *   line of `srvr` and exits 1 when the server does not answer.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, extractSystemPropertyFlags, loadZooCfg, systemPropertiesFrom, ZooCfg } from '../server/config';
import { sendFourLetterWord } from './four-letter-client';
import { runForeground, ServerStarter, toServerOptions } from './server-launch';

export const USAGE = 'Usage: zk-server [--config <conf-dir>] [-Dkey=value ...] {start|start-foreground|stop|restart|status} [zoo.cfg]';

/** What `zk-server --help` prints: the usage line and what each part means. */
export const HELP = [
  USAGE,
  '',
  'Runs the zookeeper-ts server the way zkServer.sh runs Apache ZooKeeper.',
  '',
  'Commands:',
  '  start             start the server in the background (log: $ZOO_LOG_DIR/zookeeper-server.out)',
  '  start-foreground  run the server in this process until SIGTERM or Ctrl-C',
  '  stop              stop the server named by the pid file (SIGTERM, then SIGKILL after $ZOO_STOP_TIMEOUT s)',
  '  restart           stop, then start',
  '  status            print the server mode (srvr); exit 1 when it does not answer',
  '',
  'Options:',
  '  --config <dir>    directory holding the config file (default $ZOOCFGDIR or ./conf)',
  '  -Dkey=value       a Java-style system property (also read from SERVER_JVMFLAGS and JVMFLAGS)',
  '  -h, --help        print this help',
  '',
  'The config file is the zoo.cfg argument when it names a file, else <dir>/<arg>,',
  'else <dir>/$ZOOCFG (default zoo.cfg). Settings this server does not implement',
  'are reported on stderr as "WARN config: ..." when the server starts.',
].join('\n');
export const PID_FILE_NAME = 'zookeeper_server.pid';
export const LOG_FILE_NAME = 'zookeeper-server.out';

export interface ZkServerIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** For start-foreground: how to start the server (tests inject a fake). */
  starter?: ServerStarter;
}

export interface ParsedServerArgs {
  command: string;
  configArg?: string;
  configDir?: string;
  flags: Record<string, string>;
}

/** Parses `[--config dir] [-D...] command [zoo.cfg]`; -D flags may appear anywhere. */
export function parseServerArgs(argv: readonly string[]): ParsedServerArgs {
  const { properties, rest } = extractSystemPropertyFlags(argv);
  let configDir: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--config') {
      if (i + 1 >= rest.length) throw new UsageError('--config needs a directory');
      configDir = rest[++i];
    } else {
      positional.push(rest[i]);
    }
  }
  if (positional.length === 0) throw new UsageError('missing command');
  if (positional.length > 2) throw new UsageError(`unexpected arguments: ${positional.slice(2).join(' ')}`);
  return { command: positional[0], configArg: positional[1], configDir, flags: properties };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Resolves the config file like zkServer.sh (see the module comment). */
export function resolveConfigPath(args: Pick<ParsedServerArgs, 'configArg' | 'configDir'>, env: NodeJS.ProcessEnv, cwd: string): string {
  const dir = path.resolve(cwd, args.configDir ?? env.ZOOCFGDIR ?? 'conf');
  if (args.configArg === undefined) return path.join(dir, env.ZOOCFG ?? 'zoo.cfg');
  const direct = path.resolve(cwd, args.configArg);
  if (fs.existsSync(direct)) return direct;
  const inDir = path.resolve(dir, args.configArg);
  return fs.existsSync(inDir) ? inDir : direct;
}

export function pidFilePath(cfg: ZooCfg, env: NodeJS.ProcessEnv): string {
  return env.ZOOPIDFILE ? path.resolve(env.ZOOPIDFILE) : path.join(cfg.dataDir, PID_FILE_NAME);
}

export function logFilePath(cfg: ZooCfg, env: NodeJS.ProcessEnv): string {
  return path.join(env.ZOO_LOG_DIR ? path.resolve(env.ZOO_LOG_DIR) : cfg.dataDir, LOG_FILE_NAME);
}

/** Where to probe the server: its client address unless that is a wildcard, else loopback; TLS when only a secure port exists. */
export function probeAddress(cfg: ZooCfg): { host: string; port: number; tls: boolean } {
  const wildcard = (a: string | undefined) => a === undefined || a === '0.0.0.0' || a === '::' || a === '';
  if (cfg.clientPort !== undefined) {
    return { host: wildcard(cfg.clientPortAddress) ? '127.0.0.1' : cfg.clientPortAddress!, port: cfg.clientPort, tls: false };
  }
  return {
    host: wildcard(cfg.secureClientPortAddress) ? '127.0.0.1' : cfg.secureClientPortAddress!,
    port: cfg.secureClientPort!,
    tls: true,
  };
}

/** The package root (holds package.json and bin/), found from this file in src/cli or dist/src/cli. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bin', 'zk-server'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the zookeeper-ts package root above ${__dirname}`);
}

export function readPid(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  return /^\d+$/.test(text) ? Number(text) : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** On Linux, refuse to signal a recycled pid: the process must be a zk-server. Elsewhere trust the pid file, like zkServer.sh. */
export function isOurServerProcess(pid: number): boolean {
  const cmdlineFile = `/proc/${pid}/cmdline`;
  if (!fs.existsSync('/proc/self/cmdline')) return isAlive(pid);
  try {
    // The argv `start` spawns: node <...>/bin/zk-server [flags] start-foreground <cfg>. Matching whole
    // words, not a substring, keeps e.g. a test runner given "zk-server-args.test.ts" from qualifying.
    const words = fs.readFileSync(cmdlineFile, 'utf8').split('\0');
    return words.includes('start-foreground') && words.some((w) => /^zk-server(\.[jt]s)?$/.test(path.basename(w)));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tailOf(file: string, lines = 20): string {
  try {
    const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** The `Mode: ...` line of srvr, or null when the server does not answer or is not serving. */
export async function queryMode(cfg: ZooCfg, timeoutMs = 2000): Promise<string | null> {
  const { host, port, tls } = probeAddress(cfg);
  try {
    const reply = await sendFourLetterWord(host, port, 'srvr', { timeoutMs, tls });
    const line = reply.split('\n').find((l) => l.startsWith('Mode: '));
    return line ?? null;
  } catch {
    return null;
  }
}

/** Runs the command; resolves with the process exit code (start-foreground resolves only when asked to stop). */
export async function zkServerMain(argv: readonly string[], io: ZkServerIo): Promise<number> {
  if (argv.some((a) => a === '--help' || a === '-h' || a === '-help') || (argv.length === 1 && argv[0] === 'help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  let args: ParsedServerArgs;
  try {
    args = parseServerArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const known = ['start', 'start-foreground', 'stop', 'restart', 'status'];
  if (!known.includes(args.command)) {
    io.err(`unknown command ${args.command}\n${USAGE}\n`);
    return 2;
  }
  const configPath = resolveConfigPath(args, io.env, io.cwd);
  io.err(`Using config: ${configPath}\n`);
  let cfg: ZooCfg;
  try {
    cfg = loadZooCfg(configPath, { systemProperties: systemPropertiesFrom(args.flags, io.env), cwd: io.cwd });
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`Invalid config, exiting abnormally: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (args.command === 'start' || args.command === 'start-foreground' || args.command === 'restart') {
    // On the console, not only in the server's log (start sends the server's own output to a file).
    for (const w of cfg.warnings) io.err(`WARN config: ${w}\n`);
  }
  switch (args.command) {
    case 'start-foreground':
      return startForeground(cfg, io);
    case 'start':
      return start(cfg, args, configPath, io);
    case 'stop':
      return stop(cfg, io);
    case 'restart': {
      await stop(cfg, io);
      return start(cfg, args, configPath, io);
    }
    case 'status':
      return status(cfg, io);
  }
  return 2;
}

async function startForeground(cfg: ZooCfg, io: ZkServerIo): Promise<number> {
  try {
    toServerOptions(cfg);
  } catch (e) {
    io.err(`Invalid config, exiting abnormally: ${(e as Error).message}\n`);
    return 1;
  }
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  fs.mkdirSync(cfg.dataLogDir, { recursive: true });
  return new Promise<number>((resolve) => {
    // The warnings went to stderr already (zkServerMain); do not print them twice.
    runForeground({ ...cfg, warnings: [] }, { starter: io.starter, log: (l) => io.out(`${new Date().toISOString()} ${l}\n`), exit: resolve }).catch((e) => {
      io.err(`Unable to start the server: ${(e as Error).message}\n`);
      resolve(1);
    });
  });
}

async function start(cfg: ZooCfg, args: ParsedServerArgs, configPath: string, io: ZkServerIo): Promise<number> {
  io.out('Starting zookeeper ... ');
  try {
    toServerOptions(cfg);
  } catch (e) {
    io.out('FAILED TO START\n');
    io.err(`${(e as Error).message}\n`);
    return 1;
  }
  const pidFile = pidFilePath(cfg, io.env);
  const existing = readPid(pidFile);
  if (existing !== null && isAlive(existing) && isOurServerProcess(existing)) {
    io.out(`already running as process ${existing}.\n`);
    return 1;
  }
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  const logFile = logFilePath(cfg, io.env);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logFd = fs.openSync(logFile, 'a');
  const flags = Object.entries(args.flags).map(([k, v]) => `-D${k}=${v}`);
  const bin = path.join(packageRoot(), 'bin', 'zk-server');
  const child = spawn(process.execPath, [bin, ...flags, 'start-foreground', configPath], {
    cwd: io.cwd,
    env: io.env,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  if (child.pid === undefined) {
    io.out('SERVER DID NOT START\n');
    return 1;
  }
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();
  try {
    fs.writeFileSync(pidFile, String(child.pid));
  } catch (e) {
    io.out('FAILED TO WRITE PID\n');
    io.err(`${(e as Error).message}\n`);
    process.kill(child.pid, 'SIGTERM');
    return 1;
  }
  const timeoutMs = Number(io.env.ZOO_START_TIMEOUT ?? 30) * 1000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const mode = await queryMode(cfg, 1000);
    if (mode !== null) {
      io.out('STARTED\n');
      return 0;
    }
    await sleep(200);
  }
  io.out('FAILED TO START\n');
  if (exited === undefined && isAlive(child.pid)) {
    io.err(`no answer from ${JSON.stringify(probeAddress(cfg))} within ${timeoutMs} ms; stopping process ${child.pid}\n`);
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  fs.rmSync(pidFile, { force: true });
  io.err(`last lines of ${logFile}:\n${tailOf(logFile)}\n`);
  return 1;
}

async function stop(cfg: ZooCfg, io: ZkServerIo): Promise<number> {
  io.out('Stopping zookeeper ... ');
  const pidFile = pidFilePath(cfg, io.env);
  if (!fs.existsSync(pidFile)) {
    io.out(`no zookeeper to stop (could not find file ${pidFile})\n`);
    return 0;
  }
  const pid = readPid(pidFile);
  if (pid === null || !isAlive(pid) || !isOurServerProcess(pid)) {
    fs.rmSync(pidFile, { force: true });
    io.out(`no zookeeper to stop (stale pid file ${pidFile} removed)\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const timeoutMs = Number(io.env.ZOO_STOP_TIMEOUT ?? 30) * 1000;
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    io.err(`process ${pid} did not exit within ${timeoutMs} ms of SIGTERM; sending SIGKILL\n`);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  fs.rmSync(pidFile, { force: true });
  io.out('STOPPED\n');
  return 0;
}

async function status(cfg: ZooCfg, io: ZkServerIo): Promise<number> {
  if (cfg.clientPort === undefined && cfg.secureClientPort === undefined) {
    // A config outside its server list may have none (see parseZooCfg); zkServer.sh's words.
    io.out('Client port not found. Terminating.\n');
    return 1;
  }
  const probe = probeAddress(cfg);
  io.out(`Client port found: ${probe.port}. Client address: ${probe.host}. Client SSL: ${probe.tls}.\n`);
  const mode = await queryMode(cfg, 5000);
  if (mode === null) {
    io.out('Error contacting service. It is probably not running.\n');
    return 1;
  }
  io.out(`${mode}\n`);
  return 0;
}

/** Entry point for bin/zk-server. */
export function main(): void {
  const io: ZkServerIo = {
    env: process.env,
    cwd: process.cwd(),
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  };
  zkServerMain(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`zk-server: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
