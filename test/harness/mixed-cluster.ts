/**
 * One ensemble of both kinds of server: some members are Apache ZooKeeper
 * 3.8 JVMs, some are ours, all sharing one zoo.cfg server list (each member
 * gets the same file apart from dataDir, clientPort and, for observers,
 * peerType). This is the mixed quorum of issue 8: our election and ZAB have
 * to speak Apache's protocol for it to form at all.
 *
 * Who leads is steered, not left to start-up timing: with empty dataDirs
 * Fast Leader Election picks the highest sid among the voters that talk to
 * each other, so the member meant to lead gets the highest voter sid and is
 * launched first; the others join its round. startMixed checks that the
 * intended member leads and says so when it does not.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JAVA, apacheAvailable, apacheJvmArgs, log4jProperties } from './apache-cluster';
import type { Cluster } from './cluster-types';
import { ManagedServer, makeCluster } from './managed-server';
import { ourEnsembleMember, writeMemberFiles } from './our-cluster';
import { freePorts } from './ports';
import { makeTempDir, removeTempDir } from './temp-dirs';


export type MemberKind = 'ours' | 'apache';

/** One member of a mixed ensemble, in sid order (the first is sid 1). */
export interface MixedMemberSpec {
  kind: MemberKind;
  /** An observer (`:observer` in the server line, peerType=observer in its own file); default a voter. */
  observer?: boolean;
}

export interface MixedMember {
  sid: number;
  kind: MemberKind;
  observer: boolean;
  server: ManagedServer;
}

export interface MixedCluster extends Cluster {
  members: MixedMember[];
  /** The member with this sid. */
  member(sid: number): MixedMember;
  /** "sid 3 (ours, leader)"-style description of every member, for test names and failures. */
  describe(): Promise<string>;
  /**
   * A rolling-replacement step: stops member `sid` (SIGTERM, as a service
   * stop does) and starts a server of `kind` in its place on the same
   * zoo.cfg, myid and dataDir; resolves once it serves.
   */
  replace(sid: number, kind: MemberKind): Promise<MixedMember>;
  /** The `server.N=...` line of any sid, initial or reserved for a joiner, e.g. `server.4=127.0.0.1:q:e:observer;127.0.0.1:c`. */
  serverLine(sid: number, observer?: boolean): string;
  /**
   * Starts a server that is not in the config yet, the way Apache's reconfig
   * guide adds one: its zoo.cfg holds the initial members' lines plus its
   * own (so it elects, learns the ensemble's newer config from the
   * election and follows the leader as a non-voting member until a
   * `reconfig` adds it). Resolves once it serves.
   */
  join(spec: JoinerSpec): Promise<MixedMember>;
}

export interface MixedOptions {
  tickTime?: number;
  /** Budget for forming the ensemble; default 90 s (JVMs and a cold transpile on a 2-core machine). */
  startTimeoutMs?: number;
  /** Extra system properties for every member (e.g. zookeeper.snapshotSizeFactor): -D flags, ours through JVMFLAGS. */
  systemProperties?: Record<string, string>;
  /** maxSessionTimeout for every member. */
  maxSessionTimeout?: number;
  /** forceSync=yes on every member (default no: tests need no fsync). */
  forceSync?: boolean;
  /**
   * Called with every server process made (at start and by replace()), so
   * that a script interrupted mid-start can kill what is already running.
   */
  onServer?: (server: ManagedServer) => void;
  /** reconfigEnabled=true in every member's zoo.cfg. */
  reconfigEnabled?: boolean;
  /** The super user's digest (digestOf('super', password)) for every member, Apache's and ours. */
  superDigest?: string;
  /** Sids after the initial members kept free (ports reserved) for servers that join() later; default 0. */
  joiners?: number;
}

/** A server started by join(): not in the initial config, its own zoo.cfg lists the ensemble and itself. */
export interface JoinerSpec extends MixedMemberSpec {
  /** Its sid: one of the `joiners` reserved after the initial members. */
  sid: number;
}

/**
 * Starts a mixed ensemble; the highest-sid voter is launched first and is
 * expected to lead. Resolves once every member serves and that voter leads.
 */
export async function startMixed(specs: MixedMemberSpec[], opts: MixedOptions = {}): Promise<MixedCluster> {
  if (specs.some((s) => s.kind === 'apache') && !apacheAvailable()) {
    throw new Error('Apache ZooKeeper is not installed: run bash test/setup/ensure-deps.sh');
  }
  const budget = opts.startTimeoutMs ?? 90_000;
  const root = makeTempDir('zk-mixed-');
  const members: MixedMember[] = [];
  const sysProps = {
    ...(opts.superDigest !== undefined ? { 'zookeeper.DigestAuthenticationProvider.superDigest': opts.superDigest } : {}),
    ...opts.systemProperties,
  };
  const makeMember = (kind: MemberKind, sid: number, dir: string, dataDir: string, cfgFile: string, clientPort: number): ManagedServer => {
    const server =
      kind === 'apache'
        ? apacheMember(sid, dir, dataDir, cfgFile, clientPort, budget, sysProps)
        // zkServer.sh's JVMFLAGS carry -D system properties, for us too.
        : ourEnsembleMember(sid, dir, dataDir, cfgFile, clientPort, budget, Object.entries(sysProps).map(([k, v]) => `-D${k}=${v}`));
    opts.onServer?.(server);
    return server;
  };
  try {
    const ports = await freePorts(3 * (specs.length + (opts.joiners ?? 0)));
    const portsOf = (sid: number) => {
      if (sid < 1 || sid > ports.length / 3) throw new Error(`sid ${sid} has no ports reserved (initial members and joiners: 1..${ports.length / 3})`);
      return { client: ports[3 * sid - 3], quorum: ports[3 * sid - 2], election: ports[3 * sid - 1] };
    };
    const serverLine = (sid: number, observer = false) => {
      const p = portsOf(sid);
      return `server.${sid}=127.0.0.1:${p.quorum}:${p.election}:${observer ? 'observer' : 'participant'};127.0.0.1:${p.client}`;
    };
    const serverLines = specs.map((s, i) => serverLine(i + 1, s.observer));
    const addMember = (sid: number, spec: MixedMemberSpec, lines: string[]): MixedMember => {
      const { dir, dataDir, cfgFile } = writeMemberFiles(root, sid, portsOf(sid).client, [
        ...(spec.observer ? ['peerType=observer'] : []),
        ...(opts.maxSessionTimeout !== undefined ? [`maxSessionTimeout=${opts.maxSessionTimeout}`] : []),
        ...(opts.reconfigEnabled ? ['reconfigEnabled=true'] : []),
        ...lines,
      ], { tickTime: opts.tickTime, forceSync: opts.forceSync });
      const m: MixedMember = { sid, kind: spec.kind, observer: spec.observer ?? false, server: makeMember(spec.kind, sid, dir, dataDir, cfgFile, portsOf(sid).client) };
      members.push(m);
      return m;
    };
    specs.forEach((spec, i) => addMember(i + 1, spec, serverLines));

    const voters = members.filter((m) => !m.observer);
    const first = voters[voters.length - 1];
    first.server.launch();
    await first.server.waitReady('process', budget);
    for (const m of members) if (m !== first) m.server.launch();
    await Promise.all(members.map((m) => m.server.waitReady('serving', budget)));

    const servers = members.map((m) => m.server);
    const cluster = makeCluster('ours', servers, root);
    const mixed: MixedCluster = {
      ...cluster,
      members,
      member(sid: number) {
        const m = members.find((x) => x.sid === sid);
        if (!m) throw new Error(`no member with sid ${sid}`);
        return m;
      },
      async describe() {
        const parts = await Promise.all(members.map(async (m) => `sid ${m.sid} (${m.kind}, ${m.server.running() ? ((await m.server.mode()) ?? 'not serving') : 'down'})`));
        return parts.join(', ');
      },
      async replace(sid: number, kind: MemberKind) {
        const i = members.findIndex((m) => m.sid === sid);
        const old = members[i];
        await old.server.stop();
        const s = old.server;
        const next: MixedMember = { ...old, kind, server: makeMember(kind, sid, s.dir, s.dataDir, path.join(s.dir, 'zoo.cfg'), s.clientPort) };
        // The Cluster's own list (leader(), waitHealthy(), stop()) follows the swap.
        members[i] = next;
        servers[i] = next.server;
        await next.server.start();
        return next;
      },
      serverLine,
      async join(spec: JoinerSpec) {
        if (members.some((m) => m.sid === spec.sid) || spec.sid <= specs.length) throw new Error(`sid ${spec.sid} is taken`);
        const m = addMember(spec.sid, spec, [...serverLines, serverLine(spec.sid, spec.observer)]);
        servers.push(m.server);
        m.server.launch();
        await m.server.waitReady('serving', 30_000);
        return m;
      },
    };
    await cluster.waitHealthy(budget);
    const leading = await first.server.mode();
    if (leading !== 'leader') throw new Error(`sid ${first.sid} (${first.kind}) was meant to lead; the ensemble is ${await mixed.describe()}`);
    return mixed;
  } catch (err) {
    await Promise.all(members.map((m) => m.server.kill()));
    removeTempDir(root);
    throw err;
  }
}

function apacheMember(sid: number, dir: string, dataDir: string, cfgFile: string, clientPort: number, startTimeoutMs: number, sysProps: Record<string, string>): ManagedServer {
  const logFile = path.join(dir, 'zookeeper.log');
  fs.writeFileSync(path.join(dir, 'log4j.properties'), log4jProperties(logFile));
  const args = apacheJvmArgs(dir, cfgFile, {
    'log4j.configuration': `file:${path.join(dir, 'log4j.properties')}`,
    'zookeeper.log.dir': dir,
    'zookeeper.admin.enableServer': 'false',
    'zookeeper.jmx.log4j.disable': 'true',
    ...sysProps,
  });
  return new ManagedServer({
    id: sid,
    clientPort,
    dataDir,
    dir,
    logFiles: [path.join(dir, 'stdout.log'), logFile],
    launch: () => ({ command: JAVA, args }),
    startTimeoutMs,
  });
}
