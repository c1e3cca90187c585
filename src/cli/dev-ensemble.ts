/**
 * `npm start`'s ensemble: the classic local cluster of conf/zoo1.cfg ..
 * zoo4.cfg (three voters and an observer on 127.0.0.1) run in this one
 * process, so Ctrl-C or SIGTERM stops all four and nothing is left running.
 *
 * Each member keeps its data in <dataRoot>/<id> (myid written there), and
 * logs to <dataRoot>/<id>/server.log; the console gets a line per member, the
 * roles once a leader is elected, and the connect string. The conf files'
 * ports are used when all twelve are free; otherwise every member gets free
 * ports (the set must stay consistent, so all move together).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { parseZooCfg, type ZooCfg } from '../server/config';
import { howToConnect } from './banner';
import { installShutdown, startEnsembleMember, type RunningServer } from './server-launch';

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

/** Starts every member, waits for the roles, prints them; resolves with a handle that closes all. */
export async function startDevEnsemble(opts: DevEnsembleOptions): Promise<RunningServer & { members: Array<{ id: number; role: () => string; clientPort: number }> }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const conf = readDevConf(opts.confDir);
  let plans = conf.plans;
  const wanted = plans.flatMap((p) => [p.clientPort, p.quorumPort, p.electionPort]);
  const allFree = !opts.freePortsOnly && (await Promise.all(wanted.map(portFree))).every(Boolean);
  if (!allFree) {
    const ports = await osFreePorts(wanted.length);
    plans = plans.map((p, i) => ({ ...p, clientPort: ports[3 * i], quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2] }));
  }
  const started: Array<{ plan: MemberPlan; srv: RunningServer; logFile: string }> = [];
  try {
    for (const p of plans) {
      const dataDir = path.join(opts.dataRoot, String(p.id));
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'myid'), `${p.id}\n`);
      const cfg = parseZooCfg(cfgText(p, plans, dataDir, conf), { systemProperties: opts.systemProperties });
      const logFile = path.join(dataDir, 'server.log');
      const out = fs.createWriteStream(logFile, { flags: 'a' });
      const srv = await startEnsembleMember(cfg, { logger: (m) => out.write(`${new Date().toISOString()} ${m}\n`) });
      started.push({ plan: p, srv, logFile });
      log(`ZooKeeper server (zookeeper-ts) ensemble member ${p.id} (${p.role}) listening on 127.0.0.1:${srv.clientPort} (dataDir ${dataDir}, pid ${process.pid}); log ${logFile}`);
    }
  } catch (e) {
    await Promise.all(started.map((s) => s.srv.close().catch(() => undefined)));
    throw e;
  }
  const members = started.map((s) => ({ id: s.plan.id, role: () => s.srv.role?.() ?? 'unknown', clientPort: s.srv.clientPort }));
  const connectString = members.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  const all: RunningServer = {
    connectString,
    clientPort: members[0].clientPort,
    close: async () => {
      await Promise.all(started.map((s) => s.srv.close()));
    },
  };
  if (opts.signals !== false) installShutdown(all, log, opts.exit ?? ((c) => process.exit(c)));
  // The roles, once the election is over (a leader, and every other member following or observing it).
  const deadline = Date.now() + (opts.settleTimeoutMs ?? 60_000);
  for (;;) {
    const roles = members.map((m) => m.role());
    if (roles.filter((r) => r === 'leader').length === 1 && roles.every((r) => r === 'leader' || r === 'follower' || r === 'observer')) break;
    if (Date.now() > deadline) {
      log(`WARN the ensemble has not settled: roles ${roles.join(', ')} (see the members' server.log)`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const lines = [
    '',
    `ZooKeeper (zookeeper-ts) ensemble is running: ${plans.filter((p) => p.role === 'participant').length} voters and ${plans.filter((p) => p.role === 'observer').length} observer(s) on 127.0.0.1.`,
    ...members.map((m) => `  server.${m.id}  ${m.role().padEnd(8)}  127.0.0.1:${m.clientPort}  ${path.join(opts.dataRoot, String(m.id))}`),
    `  connect string: ${connectString}`,
    '',
    ...howToConnect(connectString),
    '',
    'Ctrl-C stops all members.',
    '',
  ];
  log(lines.join('\n'));
  return { ...all, members };
}
