/**
 * TestingCluster: an ensemble of our server for tests (Curator's
 * TestingCluster for Node, with no JVM): voters and observers on free
 * loopback ports, each member with its own temp directory, zoo.cfg and
 * myid, in its own child process; and the faults to break it with.
 *
 *   const cluster = await TestingCluster.start({ voters: 3, observers: 1 });
 *   const zk = new ZooKeeper(cluster.connectString);
 *   const old = await cluster.kill('leader');          // kill -9
 *   const leader = await cluster.waitForLeader();      // a new one
 *   await old.start();                                 // same ports, same data
 *   cluster.partition([1]); cluster.heal();            // real TCP partitions
 *   await cluster.close();                             // kills all, removes the temp dir
 *
 * Why the connect strings go through proxies: every member is reached by
 * clients through a loopback proxy (see ensemble-network.ts), so the kit
 * can cut one client's connection, or a member off from its clients, with
 * real TCP failures. `directConnectString` bypasses them. Four-letter-word
 * probes (roles, readiness) always use the real client ports.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ZooKeeper } from '../index';
import { StateArg, waitForState } from './client-states';
import { EnsembleNetwork, MemberPorts, PartitionMode } from './ensemble-network';
import { connections } from './four-letter-words';
import type { StartOptions } from './managed-server';
import { freePorts } from './ports';
import { childRunner, InProcessRunner, RunnerSpec, ServerRunner } from './server-runners';
import { expireSession, ExpireSessionOptions } from './session-faults';
import { makeTempDir, removeTempDir } from './temp-dirs';
import { waitFor } from './wait';

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** Options of TestingCluster.start (and, where they apply, TestingServer.start). */
export interface TestingClusterOptions {
  /** Voting members (default 3). */
  voters?: number;
  /** Observers (default 0). */
  observers?: number;
  /** Run the members inside this process (cheaper; kill becomes a clean close, pause is unavailable). Default false. */
  inProcess?: boolean;
  /** zoo.cfg tickTime in ms (default 500; sessions may then last 1 to 10 s). */
  tickTime?: number;
  /** zoo.cfg initLimit / syncLimit in ticks (default 10 / 5). */
  initLimit?: number;
  /** zoo.cfg syncLimit in ticks (default 5): how far a follower may lag before the leader drops it. */
  syncLimit?: number;
  /** zoo.cfg minSessionTimeout in ms (default 2 x tickTime). */
  minSessionTimeout?: number;
  /** zoo.cfg maxSessionTimeout in ms (default 20 x tickTime). */
  maxSessionTimeout?: number;
  /** fsync the txn log before acknowledging (default false: test data is thrown away). */
  forceSync?: boolean;
  /** More zoo.cfg lines (key -> value), for every member. */
  config?: Record<string, string | number | boolean>;
  /** Java-style system properties, passed as -D flags (e.g. { 'znode.container.checkIntervalMs': '100' }). */
  systemProperties?: Record<string, string>;
  /** Budget for start-up and for each restart (default 60 000 ms). */
  startTimeoutMs?: number;
  /** Where the cluster's temp directory is made (default the OS temp dir). */
  tempDir?: string;
}

/** A member's role in the configuration. */
export type MemberRole = 'participant' | 'observer' | 'standalone';

/** One server of a TestingCluster (or the TestingServer's only one). */
export class TestingMember {
  /** Clients' address of this member: through its proxy ("127.0.0.1:<proxy port>"). */
  readonly connectString: string;
  /** Its real client address, bypassing the proxy (immune to isolateFromClients and dropConnection). */
  readonly directConnectString: string;
  /** Its zoo.cfg. */
  readonly configFile: string;

  /** @internal */
  constructor(
    private readonly network: EnsembleNetwork,
    /** myid (1 for a standalone server). */
    readonly id: number,
    /** Its role in the configuration (participant, observer, or standalone for a TestingServer). */
    readonly role: MemberRole,
    private readonly ports: MemberPorts,
    private readonly runner: ServerRunner,
    /** The member's directory (zoo.cfg, server.log, data/). */
    readonly dir: string,
    /** Its dataDir (snapshots, txn logs, myid), kept across kill and restart. */
    readonly dataDir: string,
  ) {
    this.connectString = network.clientProxy(id).hostPort;
    this.directConnectString = `127.0.0.1:${ports.clientPort}`;
    this.configFile = path.join(dir, 'zoo.cfg');
  }

  /** The real client port (four-letter words, or a client bypassing the proxy). */
  get clientPort(): number {
    return this.ports.clientPort;
  }

  /** The OS process id while running (this process's for an in-process member). */
  pid(): number | undefined {
    return this.runner.pid();
  }

  /** True while its server runs (also while paused). */
  running(): boolean {
    return this.runner.running();
  }

  /** True between pause() and resume(). */
  get paused(): boolean {
    return this.runner.paused;
  }

  /** kill -9 and wait for the process to be gone (in process: a close). */
  kill(): Promise<void> {
    return this.runner.kill();
  }

  /** SIGTERM (a clean shutdown) and wait for the process to be gone. */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  /**
   * Starts it again on the same ports and data. Waits until it serves, or
   * with `{ waitFor: 'process' }` only until it answers (a member that
   * cannot reach a quorum never serves).
   */
  start(opts: StartOptions = {}): Promise<void> {
    return this.runner.start(opts);
  }

  /** stop() then start(). */
  async restart(opts: StartOptions = {}): Promise<void> {
    await this.stop();
    await this.start(opts);
  }

  /** SIGSTOP: the process freezes with its sockets open; clients and peers hear nothing until resume(). */
  pause(): void {
    this.runner.pause();
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.runner.resume();
  }

  /** srvr's Mode now (leader, follower, observer, standalone), undefined when down, paused or not serving. */
  mode(): Promise<string | undefined> {
    return this.runner.mode();
  }

  /** Cuts this member off from every other member (election and quorum links, both directions). See TestingCluster.partition. */
  isolate(mode?: PartitionMode): void {
    this.network.partition([this.id], mode);
  }

  /** Cuts this member off from clients (its proxy resets and refuses connections, or black-holes them); it stays in the ensemble. */
  isolateFromClients(mode?: PartitionMode): void {
    this.network.isolateFromClients(this.id, mode);
  }

  /** Resets every client connection to this member now; clients reconnect with their sessions. */
  dropConnections(): void {
    this.network.clientProxy(this.id).cut();
  }

  /** The last lines of its log (server.log: the server's own output). */
  logTail(lines = 40): string {
    return this.runner.logTail(lines);
  }

  /** @internal Spawns it without waiting (the cluster starts all members at once). */
  launch(): void {
    this.runner.launch();
  }

  /** @internal */
  waitReady(what: 'serving' | 'process', timeoutMs: number): Promise<void> {
    return this.runner.waitReady(what, timeoutMs);
  }
}

function configText(opts: TestingClusterOptions, me: MemberPorts, dataDir: string, serverLines: string[]): string {
  const lines = [
    '# Written by zookeeper-ts/testing: other members\' lines point at this member\'s proxies to them.',
    `tickTime=${opts.tickTime ?? 500}`,
    `initLimit=${opts.initLimit ?? 10}`,
    `syncLimit=${opts.syncLimit ?? 5}`,
    `dataDir=${dataDir}`,
    `clientPort=${me.clientPort}`,
    'clientPortAddress=127.0.0.1',
    '4lw.commands.whitelist=*',
    'maxClientCnxns=0',
    `forceSync=${opts.forceSync ? 'yes' : 'no'}`,
    ...(opts.minSessionTimeout !== undefined ? [`minSessionTimeout=${opts.minSessionTimeout}`] : []),
    ...(opts.maxSessionTimeout !== undefined ? [`maxSessionTimeout=${opts.maxSessionTimeout}`] : []),
    ...serverLines,
    ...Object.entries(opts.config ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  return lines.join('\n') + '\n';
}

/** Which member: a myid, or the current leader. */
export type MemberRef = number | 'leader';

/**
 * An ensemble of our server for tests, with its faults (see the module comment).
 * Example: `const cluster = await TestingCluster.start({ voters: 3, observers: 1 })`
 */
export class TestingCluster {
  /** Every member, voters first (ids 1..voters), then observers. */
  readonly members: readonly TestingMember[];
  /** All members through their client proxies, comma-separated: what clients should use. */
  readonly connectString: string;
  /** All members' real client addresses (no proxies: immune to client partitions and dropConnection). */
  readonly directConnectString: string;
  private closed = false;

  /** @internal */
  constructor(
    /** The cluster's temp directory (removed by close() unless ZK_TEST_KEEP_DIRS=1). */
    readonly dir: string,
    /** @internal */
    readonly network: EnsembleNetwork,
    members: TestingMember[],
  ) {
    this.members = members;
    this.connectString = members.map((m) => m.connectString).join(',');
    this.directConnectString = members.map((m) => m.directConnectString).join(',');
  }

  /**
   * Starts an ensemble (default 3 voters, no observers) and resolves once
   * every member serves and one leads. On failure nothing is left behind
   * and the error carries every member's log tail.
   */
  static start(options: TestingClusterOptions = {}): Promise<TestingCluster> {
    const voters = options.voters ?? 3;
    const observers = options.observers ?? 0;
    if (!Number.isInteger(voters) || voters < 1) throw new RangeError(`voters must be an integer >= 1 (got ${voters})`);
    if (!Number.isInteger(observers) || observers < 0) throw new RangeError(`observers must be an integer >= 0 (got ${observers})`);
    const roles: MemberRole[] = [...Array<MemberRole>(voters).fill('participant'), ...Array<MemberRole>(observers).fill('observer')];
    return TestingCluster.launch(roles, options);
  }

  /**
   * @internal Starts members with these roles ('standalone': one server
   * without server lines), made by `make` (TestingServer makes itself).
   */
  static async launch(
    roles: MemberRole[],
    options: TestingClusterOptions,
    make: (...args: ConstructorParameters<typeof TestingMember>) => TestingMember = (...args) => new TestingMember(...args),
  ): Promise<TestingCluster> {
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const root = makeTempDir(roles[0] === 'standalone' ? 'zk-testing-server-' : 'zk-testing-cluster-', options.tempDir);
    let network: EnsembleNetwork | undefined;
    const members: TestingMember[] = [];
    try {
      const ports = await freePorts(3 * roles.length);
      const plan: MemberPorts[] = roles.map((_, i) => ({ id: i + 1, clientPort: ports[3 * i], quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2] }));
      const net = (network = await EnsembleNetwork.start(plan));
      for (const [i, me] of plan.entries()) {
        const dir = path.join(root, `member-${me.id}`);
        const dataDir = path.join(dir, 'data');
        fs.mkdirSync(dataDir, { recursive: true });
        const serverLines = roles[i] === 'standalone' ? [] : plan.map((peer, j) => {
          const p = net.peerPorts(me.id, peer.id);
          return `server.${peer.id}=127.0.0.1:${p.quorumPort}:${p.electionPort}${roles[j] === 'observer' ? ':observer' : ''}`;
        });
        if (roles[i] !== 'standalone') fs.writeFileSync(path.join(dataDir, 'myid'), `${me.id}\n`);
        const cfgFile = path.join(dir, 'zoo.cfg');
        fs.writeFileSync(cfgFile, configText(options, me, dataDir, serverLines));
        const spec: RunnerSpec = {
          id: me.id,
          clientPort: me.clientPort,
          dataDir,
          dir,
          cfgFile,
          logFile: path.join(dir, 'server.log'),
          systemProperties: options.systemProperties ?? {},
          startTimeoutMs,
        };
        const runner = options.inProcess ? new InProcessRunner(spec) : childRunner(spec);
        members.push(make(net, me.id, roles[i], me, runner, dir, dataDir));
      }
      const cluster = new TestingCluster(root, net, members);
      // All at once: an ensemble member serves only once a quorum is up.
      for (const m of members) m.launch();
      await Promise.all(members.map((m) => m.waitReady('serving', startTimeoutMs)));
      await cluster.waitHealthy(startTimeoutMs);
      return cluster;
    } catch (e) {
      await Promise.all(members.map((m) => m.kill().catch(() => undefined)));
      await network?.close();
      removeTempDir(root);
      throw e;
    }
  }

  /** The member with this myid. */
  member(id: number): TestingMember {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id} (members: ${this.members.map((x) => x.id).join(', ')})`);
    return m;
  }

  /** The member leading now (srvr says leader, or standalone), undefined when none does. */
  async leader(): Promise<TestingMember | undefined> {
    const modes = await this.modes();
    const leaders = this.members.filter((_, i) => modes[i] === 'leader' || modes[i] === 'standalone');
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /**
   * Waits until exactly one member leads and a majority of the voters
   * serve under it (leader or follower); resolves with the leader. A
   * partitioned old leader that has not stepped down yet counts as a
   * second leader, so this also waits for that.
   */
  async waitForLeader(timeoutMs = 30_000): Promise<TestingMember> {
    const voters = this.members.filter((m) => m.role !== 'observer').length;
    return waitFor('a leader with a quorum of voters', async () => {
      const modes = await this.modes();
      const leaders = this.members.filter((_, i) => modes[i] === 'leader' || modes[i] === 'standalone');
      const serving = this.members.filter((m, i) => m.role !== 'observer' && ['leader', 'follower', 'standalone'].includes(modes[i] ?? ''));
      return leaders.length === 1 && serving.length > voters / 2 ? leaders[0] : undefined;
    }, timeoutMs, 100, () => this.describe());
  }

  /** Waits until every running, unpaused member serves and (an ensemble) exactly one leads. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor('every running member to serve under one leader', async () => {
      const modes = await this.modes();
      const up = this.members.map((m, i) => ({ m, mode: modes[i] })).filter(({ m }) => m.running() && !m.paused);
      if (up.length === 0 || up.some(({ mode }) => mode === undefined)) return false;
      return up.filter(({ mode }) => mode === 'leader' || mode === 'standalone').length === 1;
    }, timeoutMs, 100, () => this.describe());
  }

  /** kill -9 a member (by myid, or the current leader); resolves with it once its process is gone. */
  async kill(which: MemberRef): Promise<TestingMember> {
    const m = await this.resolve(which);
    await m.kill();
    return m;
  }

  /** Stops (SIGTERM) and starts a member again on the same ports and data; resolves with it once it serves. */
  async restart(which: MemberRef, opts: StartOptions = {}): Promise<TestingMember> {
    const m = await this.resolve(which);
    await m.restart(opts);
    return m;
  }

  /** SIGSTOP a member (by myid, or the current leader); `member.resume()` sends SIGCONT. */
  async pause(which: MemberRef): Promise<TestingMember> {
    const m = await this.resolve(which);
    m.pause();
    return m;
  }

  /**
   * Cuts every link between the members in `group` and the others, both
   * election and quorum ports, both directions. Cumulative:
   * `partition([1]); partition([2])` leaves 1 alone, 2 alone and the rest
   * together. Clients are not affected (see isolateFromClients). heal()
   * undoes every partition.
   */
  partition(group: number[], options: { mode?: PartitionMode } = {}): void {
    this.network.partition(group, options.mode);
  }

  /** Cuts a member off from its clients (it stays in the ensemble). heal() undoes it. */
  isolateFromClients(id: number, options: { mode?: PartitionMode } = {}): void {
    this.network.isolateFromClients(this.member(id).id, options.mode);
  }

  /** Undoes every partition and client isolation. */
  heal(): void {
    this.network.heal();
  }

  /** The member `zk` is connected to now (through its proxy or directly), if any. */
  memberOf(zk: ZooKeeper): TestingMember | undefined {
    const port = zk.currentHost?.port;
    if (port === undefined) return undefined;
    const id = this.network.memberByClientProxyPort(port);
    return id !== undefined ? this.member(id) : this.members.find((m) => m.clientPort === port);
  }

  /**
   * Resets the TCP connection of `zk` (found by its session id in the
   * member's `cons`) at the member's proxy; the client sees Disconnected
   * and reconnects with its session alive. `zk` must be connected through
   * the kit's connect strings.
   */
  async dropConnection(zk: ZooKeeper, timeoutMs = 10_000): Promise<void> {
    const m = this.memberOf(zk);
    const session = `session 0x${zk.sessionId.toString(16)}`;
    if (!m) throw new Error(`dropConnection: ${session} is not connected to a member of this cluster`);
    const proxy = this.network.clientProxy(m.id);
    if (zk.currentHost?.port !== proxy.port) {
      throw new Error(`dropConnection: ${session} is connected to member ${m.id} directly; use the cluster's connectString (through the proxies)`);
    }
    await waitFor(`the connection of ${session} on member ${m.id}`, async () => {
      const ports = (await connections('127.0.0.1', m.clientPort)).filter((c) => c.sessionId === zk.sessionId).map((c) => c.remotePort);
      return ports.length > 0 && proxy.cutWhere((c) => c.upstreamPort !== undefined && ports.includes(c.upstreamPort)) > 0;
    }, timeoutMs, 50, () => this.describe());
  }

  /**
   * Expires the session of `zk` (Curator's KillSession way) and waits until
   * `zk` reports Expired. The twin handle attaches through the member `zk`
   * is on first, taking the owner's connection over there. If the owner
   * has meanwhile reconnected to a member that keeps serving the dead
   * session's connection (ours does on the leader when another member
   * closed the session), that connection is cut, so the owner hears
   * Expired at once instead of after its read timeout.
   */
  async expireSession(zk: ZooKeeper, options: ExpireSessionOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    const on = this.memberOf(zk);
    const order = on ? [on, ...this.members.filter((m) => m !== on)] : this.members;
    try {
      await expireSession(zk, order.map((m) => m.connectString).join(','), { shuffleHosts: false, ...options, waitForExpired: false });
      if (options.waitForExpired === false) return;
      const told = await waitForState(zk, 'Expired', 300).then(() => true, () => false);
      if (told) return;
      await this.dropConnection(zk, 2000).catch(() => undefined);
      await waitForState(zk, 'Expired', Math.max(1000, deadline - Date.now()));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.describe()}`);
    }
  }

  /** waitForState, with the members' log tails in the error. */
  waitForState(zk: ZooKeeper, state: StateArg, timeoutMs = 10_000): Promise<void> {
    return waitForState(zk, state, timeoutMs, () => this.describe());
  }

  /** Every member's role now and the tail of its log: what a failed wait shows. */
  describe(lines = 15): string {
    return this.members
      .map((m) => `--- member ${m.id} (${m.role}; ${m.paused ? 'paused' : m.running() ? 'running' : 'down'}) ${m.dir} ---\n${m.logTail(lines)}`)
      .join('\n');
  }

  /** Kills every member (SIGKILL), stops the proxies and removes the temp directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.members.map((m) => m.kill().catch(() => undefined)));
    await this.network.close();
    removeTempDir(this.dir);
  }

  /** `await using cluster = await TestingCluster.start()` closes it at the end of the block. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  private async modes(): Promise<Array<string | undefined>> {
    return Promise.all(this.members.map((m) => m.mode()));
  }

  private async resolve(which: MemberRef): Promise<TestingMember> {
    if (which !== 'leader') return this.member(which);
    const leader = await this.leader();
    if (!leader) throw new Error(`no member leads now\n${this.describe()}`);
    return leader;
  }
}
