/**
 * `npm start` (see startDev below; by default the local ensemble of
 * dev-ensemble.ts). With ZK_STANDALONE=1: our ZooKeeper server, standalone,
 * in the foreground, for local development. Listens on 127.0.0.1:2181, or on a free port when 2181 is
 * taken; keeps its data in <project>/data/standalone (gitignored) so the tree
 * survives restarts; prints the connect string and how to reach it; Ctrl-C
 * (SIGINT) or SIGTERM closes it cleanly. npm runs bin/zk-dev-server with
 * `exec` (package.json), so the signals reach this process, not a shell.
 *
 * Environment: ZK_PORT to ask for another port, ZK_DATA_DIR for another data
 * directory, and Java-style system properties as `npm start -- -Dkey=value`
 * or in SERVER_JVMFLAGS / JVMFLAGS (as zk-server reads them). All
 * four-letter words are enabled (it is a development server). A second
 * server on the same data directory refuses to start (the store locks it:
 * src/server/persist/data-dir-lock.ts) instead of sharing its txn log.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { parseZooCfg, systemPropertiesFrom, extractSystemPropertyFlags } from '../server/config';
import { packageRoot } from './zk-server';
import { runForeground, ServerStarter, type RunningServer } from './server-launch';
import { startDevEnsemble } from './dev-ensemble';
import { parseDemoFlags, runDemo } from './demo/run-demo';
import { howToConnect } from './banner';

export const DEFAULT_PORT = 2181;

/** Resolves with true when `port` can be bound on `host` right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** The text printed once the server serves: connect string, a zk-cli command and a client snippet. */
export function banner(connectString: string, dataDir: string, wantedPort: number, port: number): string {
  const lines = [
    '',
    `ZooKeeper (zookeeper-ts) standalone server is running.`,
    `  connect string: ${connectString}`,
    `  data dir:       ${dataDir}`,
  ];
  if (wantedPort !== 0 && port !== wantedPort) lines.push(`  (port ${wantedPort} was taken, so a free port was chosen)`);
  lines.push(
    '',
    ...howToConnect(connectString),
    '',
    'Ctrl-C stops it.',
    '',
  );
  return lines.join('\n');
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  starter?: ServerStarter;
  log?: (line: string) => void;
  exit?: (code: number) => void;
  signals?: boolean;
}

/** Starts the development server; resolves once it serves. */
export async function startDevServer(opts: StartOptions = {}) {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => console.log(l));
  const { properties } = extractSystemPropertyFlags(opts.argv ?? []);
  const wantedPort = env.ZK_PORT ? Number(env.ZK_PORT) : DEFAULT_PORT;
  if (!Number.isInteger(wantedPort) || wantedPort < 0 || wantedPort > 65535) throw new Error(`ZK_PORT must be a port number: ${env.ZK_PORT}`);
  const dataDir = path.resolve(env.ZK_DATA_DIR ?? path.join(packageRoot(), 'data', 'standalone'));
  fs.mkdirSync(dataDir, { recursive: true });

  // 0 lets the OS pick; the banner prints the port actually bound.
  const port = (await portIsFree(wantedPort)) ? wantedPort : 0;
  const cfg = parseZooCfg(
    [
      'tickTime=2000',
      `dataDir=${dataDir}`,
      `clientPortAddress=127.0.0.1`,
      // clientPort=0 means "unset" in zoo.cfg, so a free port is requested after parsing.
      `clientPort=${port === 0 ? 1 : port}`,
      '4lw.commands.whitelist=*',
    ].join('\n'),
    { systemProperties: systemPropertiesFrom(properties, env) },
  );
  cfg.clientPort = port;
  const fg = { starter: opts.starter, log, exit: opts.exit, signals: opts.signals };
  let srv;
  try {
    srv = await runForeground(cfg, fg);
  } catch (e) {
    // Someone took the port between the probe and the bind: fall back to a free one.
    if (port === 0 || !/EADDRINUSE/.test(String((e as Error)?.message) + String((e as NodeJS.ErrnoException)?.code))) throw e;
    cfg.clientPort = 0;
    srv = await runForeground(cfg, fg);
  }
  log(banner(srv.connectString, dataDir, wantedPort, srv.clientPort));
  return srv;
}

/**
 * `npm start`: the local ensemble of conf/zoo1..4.cfg (three voters and an
 * observer, one child process each) with the demo app running on it
 * (demo/run-demo.ts: --once, --duration <s>, --no-demo); ZK_STANDALONE=1
 * runs one standalone server instead (startDevServer). ZK_DATA_DIR is the members' parent directory
 * (default <project>/data/ensemble); ZK_PORT=0 gives every member free ports
 * (they get free ports anyway when the configured ones are taken).
 */
export async function startDev(opts: StartOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  if (/^(1|true|yes)$/i.test(env.ZK_STANDALONE ?? '')) return startDevServer(opts);
  const { properties, rest } = extractSystemPropertyFlags(opts.argv ?? []);
  const demo = parseDemoFlags(rest, env);
  const ens = await startDevEnsemble({
    confDir: path.join(packageRoot(), 'conf'),
    dataRoot: path.resolve(env.ZK_DATA_DIR ?? path.join(packageRoot(), 'data', 'ensemble')),
    systemProperties: systemPropertiesFrom(properties, env),
    freePortsOnly: env.ZK_PORT === '0',
    log: opts.log,
    exit: opts.exit,
    // With the demo, the demo's own handlers stop it first, then the members.
    signals: demo.enabled ? false : opts.signals,
  });
  if (!demo.enabled) return ens;
  return runDemo(ens, demo, { exit: opts.exit, signals: opts.signals });
}

export function main(): void {
  startDev({ argv: process.argv.slice(2) }).catch((e: unknown) => {
    console.error(`npm start: could not start the server: ${(e as Error)?.message ?? e}`);
    process.exit(1);
  });
}

if (require.main === module) main();
