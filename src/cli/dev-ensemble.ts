/**
 * `npm start`'s ensemble: the classic local cluster of conf/zoo1.cfg ..
 * zoo4.cfg (three voters and an observer on 127.0.0.1), each member in its
 * own child process (`zk-server start-foreground`), so the demo can kill -9
 * the leader for real. The members are tied to this process (parent-death
 * signal, see src/testing/child-processes.ts): Ctrl-C, SIGTERM, or this
 * process dying stops all four and nothing is left running.
 *
 * Each member keeps its data in <dataRoot>/<id> (myid and zoo.cfg written
 * there), and logs to <dataRoot>/<id>/server.log; the console gets a line per member, the
 * roles once a leader is elected, and the connect string. The conf files'
 * ports are used when all twelve are free; otherwise every member gets free
 * ports (the set must stay consistent, so all move together).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { parseZooCfg, type ZooCfg } from '../server/config';
import { howToConnect } from './banner';
import { childRunner } from '../testing/server-runners';
import { installShutdown, type RunningServer } from './server-launch';

export interface DevEnsembleOptions {
  /** Where conf/zooN.cfg live. */
  confDir: string;
  /** Parent of the members' data directories. */
  dataRoot: string;
  systemProperties?: Record<string, string>;
  /** Pick free ports even when the configured ones are free (tests). */
  freePortsOnly?: boolean;
  log?: (line: string) => void;
  exit?: (code: number) => void;
  signals?: boolean;
  /** How long to wait for every member to take a role. Default 60 s. */
  settleTimeoutMs?: number;
}

interface MemberPlan {
  id: number;
  role: 'participant' | 'observer';
  clientPort: number;
  quorumPort: number;
  electionPort: number;
}

/** The members as conf/zoo1.cfg .. zooN.cfg describe them (read from each file's own server line and clientPort). */
export function readDevConf(confDir: string): { plans: MemberPlan[]; tickTime: number; initLimit: number; syncLimit: number } {
  const files = fs.readdirSync(confDir).filter((f) => /^zoo\d+\.cfg$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no conf/zooN.cfg files in ${confDir}`);
  const plans: MemberPlan[] = [];
  let first: ZooCfg | undefined;
  for (const f of files) {
    const id = Number(/^zoo(\d+)\.cfg$/.exec(f)![1]);
    const text = fs.readFileSync(path.join(confDir, f), 'utf8');
    // Parsed with myid supplied, so the file can be read before any data directory exists.
    const cfg = parseZooCfg(text, { configFile: path.join(confDir, f), readFile: (p) => (path.basename(p) === 'myid' ? String(id) : null) });
    first ??= cfg;
    const me = cfg.servers.find((s) => s.id === id)!;
    plans.push({ id, role: me.role, clientPort: cfg.clientPort!, quorumPort: me.addresses[0].quorumPort, electionPort: me.addresses[0].electionPort });
  }
  return { plans, tickTime: first!.tickTime, initLimit: first!.initLimit, syncLimit: first!.syncLimit };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** `count` distinct ports the OS says are free now. */
async function osFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function cfgText(p: MemberPlan, all: MemberPlan[], dataDir: string, limits: { tickTime: number; initLimit: number; syncLimit: number }): string {
  return [
    `tickTime=${limits.tickTime}`,
    `initLimit=${limits.initLimit}`,
    `syncLimit=${limits.syncLimit}`,
    `dataDir=${dataDir}`,
    `clientPort=${p.clientPort}`,
    'clientPortAddress=127.0.0.1',
    '4lw.commands.whitelist=*',
    ...all.map((m) => `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}${m.role === 'observer' ? ':observer' : ''}`),
  ].join('\n');
}

/** One member of the dev ensemble: its own process, which the demo may kill -9 and start again. */
export interface DevMember {
  id: number;
  role: 'participant' | 'observer';
  clientPort: number;
  dataDir: string;
  logFile: string;
  /** srvr's Mode now (undefined when the process is down or not serving). */
  mode(): Promise<string | undefined>;
  pid(): number | undefined;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts the member again on its ports and data directory; resolves once it serves. */
  start(): Promise<void>;
}

export interface DevEnsemble extends RunningServer {
  members: DevMember[];
}

/** Starts every member, waits for the roles, prints them; resolves with a handle that closes all. */
export async function startDevEnsemble(opts: DevEnsembleOptions): Promise<DevEnsemble> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const conf = readDevConf(opts.confDir);
  let plans = conf.plans;
  const wanted = plans.flatMap((p) => [p.clientPort, p.quorumPort, p.electionPort]);
  const allFree = !opts.freePortsOnly && (await Promise.all(wanted.map(portFree))).every(Boolean);
  if (!allFree) {
    const ports = await osFreePorts(wanted.length);
    plans = plans.map((p, i) => ({ ...p, clientPort: ports[3 * i], quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2] }));
  }
  const settleMs = opts.settleTimeoutMs ?? 60_000;
  const started = plans.map((p) => {
    const dataDir = path.join(opts.dataRoot, String(p.id));
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${p.id}\n`);
    const cfgFile = path.join(dataDir, 'zoo.cfg');
    fs.writeFileSync(cfgFile, cfgText(p, plans, dataDir, conf) + '\n');
    const logFile = path.join(dataDir, 'server.log');
    // Each member is `zk-server start-foreground` in a child process (so kill -9 is real), tied to this
    // process's life: it dies with us even when we are killed.
    const runner = childRunner({
      id: p.id,
      clientPort: p.clientPort,
      dataDir,
      dir: dataDir,
      cfgFile,
      logFile,
      systemProperties: opts.systemProperties ?? {},
      startTimeoutMs: settleMs,
      // Ctrl-C in the terminal reaches only us: the demo stops first, then the members get SIGTERM.
      ownProcessGroup: true,
    });
    const member: DevMember = {
      id: p.id,
      role: p.role,
      clientPort: p.clientPort,
      dataDir,
      logFile,
      mode: () => runner.mode(),
      pid: () => runner.pid(),
      kill: () => runner.kill(),
      start: () => runner.start(),
    };
    return { member, runner };
  });
  const members = started.map((s) => s.member);
  const all = {
    connectString: members.map((m) => `127.0.0.1:${m.clientPort}`).join(','),
    clientPort: members[0].clientPort,
    members,
    close: async () => {
      await Promise.all(started.map((s) => s.runner.stop()));
    },
  };
  try {
    // All at once: a member serves only once a quorum is up.
    for (const s of started) s.runner.launch();
    for (const m of members) log(`ZooKeeper server (zookeeper-ts) ensemble member ${m.id} (${m.role}) starting on 127.0.0.1:${m.clientPort}, pid ${m.pid()}; log ${m.logFile}`);
    await Promise.all(started.map((s) => s.runner.waitReady('serving', settleMs)));
  } catch (e) {
    await Promise.all(members.map((m) => m.kill().catch(() => undefined)));
    throw e;
  }
  if (opts.signals !== false) installShutdown(all, log, opts.exit ?? ((c) => process.exit(c)));
  // The roles, once the election is over (a leader, and every other member following or observing it).
  const deadline = Date.now() + settleMs;
  let roles: Array<string | undefined> = [];
  for (;;) {
    roles = await Promise.all(members.map((m) => m.mode()));
    if (roles.filter((r) => r === 'leader').length === 1 && roles.every((r) => r === 'leader' || r === 'follower' || r === 'observer')) break;
    if (Date.now() > deadline) {
      log(`WARN the ensemble has not settled: roles ${roles.join(', ')} (see the members' server.log)`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const lines = [
    '',
    `ZooKeeper (zookeeper-ts) ensemble is running: ${plans.filter((p) => p.role === 'participant').length} voters and ${plans.filter((p) => p.role === 'observer').length} observer(s) on 127.0.0.1, one process each.`,
    ...members.map((m, i) => `  server.${m.id}  ${(roles[i] ?? 'down').padEnd(8)}  127.0.0.1:${m.clientPort}  pid ${m.pid()}  ${m.dataDir}`),
    `  connect string: ${all.connectString}`,
    '',
    ...howToConnect(all.connectString),
    '',
    'Ctrl-C stops all members.',
    '',
  ];
  log(lines.join('\n'));
  return all;
}
