/**
 * The application `npm start` runs on the local ensemble: what a team does
 * with ZooKeeper, done with this SDK the way its users do it.
 *
 * Several workers, each with its own session on the whole ensemble:
 *   - elect an app-level leader with a LeaderLatch (/demo/leader);
 *   - take turns on a Mutex (/demo/lock); the holder increments a counter
 *     node (/demo/counter) with a versioned setData, so a lost write or two
 *     holders at once would show as a wrong count or a BadVersion;
 *   - watch a config node (/demo/config) with a NodeCache; the leader
 *     rewrites it every `configIntervalMs`, and every worker shows the
 *     version it has seen.
 *
 * The checks are the point of the demo, not decoration: the counter must
 * stay within [acknowledged increments, acknowledged + unknown outcomes]
 * (an increment whose reply was lost to ConnectionLoss may or may not have
 * landed), a versioned increment under the lock must never fail BadVersion,
 * no two workers may hold the lock or lead at once, and a worker's config
 * version never goes back. Anything else is reported as a violation.
 */
import { BadVersionError, KeeperState, NodeExistsError, ZooKeeper } from '../../index';
import { LeaderLatch, Mutex, NodeCache, mkdirs } from '../../../recipes';

export const DEMO_ROOT = '/demo';
const LEADER_PATH = `${DEMO_ROOT}/leader`;
const LOCK_PATH = `${DEMO_ROOT}/lock`;
const COUNTER_PATH = `${DEMO_ROOT}/counter`;
const CONFIG_PATH = `${DEMO_ROOT}/config`;

export interface DemoAppOptions {
  connectString: string;
  /** Number of workers (sessions). Default 4. */
  workers?: number;
  /** How often the app leader rewrites the config node. Default 1000 ms. */
  configIntervalMs?: number;
  /** How long a worker holds the lock, at most (a random time up to this). Default 40 ms. */
  maxHoldMs?: number;
  /** Session timeout of each worker. Default 10 s: long enough to ride out a leader's failover. */
  sessionTimeoutMs?: number;
  /** Notable happenings (a new app leader, a violation), as they occur. */
  onEvent?: (line: string) => void;
}

export interface WorkerView {
  name: string;
  /** The session's state: SyncConnected, Disconnected, Expired ... */
  connection: string;
  /** The server (host:port) the session is on, when connected. */
  server?: string;
  leader: boolean;
  holdsLock: boolean;
  /** The config node's version this worker's cache has seen (-1: none yet). */
  configVersion: number;
  acquisitions: number;
}

export interface DemoAppView {
  workers: WorkerView[];
  leader: string | null;
  lockHolder: string | null;
  /** The newest config version any worker has seen. */
  configVersion: number;
  lockHandoffs: number;
  /** Times a worker became the app's leader. */
  appElections: number;
  counter: { acked: number; unknown: number; lastRead: number };
  violations: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Worker {
  readonly zk: ZooKeeper;
  readonly latch: LeaderLatch;
  readonly mutex: Mutex;
  readonly cache: NodeCache;
  connection = 'Connecting';
  holdsLock = false;
  configVersion = -1;
  acquisitions = 0;
  private leaderLoop?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly app: DemoApp,
    connectString: string,
    sessionTimeout: number,
  ) {
    this.zk = new ZooKeeper(connectString, { sessionTimeout });
    this.zk.on('state', (s: KeeperState) => (this.connection = KeeperState[s]));
    this.latch = new LeaderLatch(this.zk, LEADER_PATH, { id: name });
    this.mutex = new Mutex(this.zk, LOCK_PATH);
    this.cache = new NodeCache(this.zk, CONFIG_PATH);
    this.latch.on('isLeader', () => this.app.leadershipGained(this));
    this.latch.on('notLeader', () => this.app.leadershipLost(this));
    this.cache.on('change', (node: { stat: { version: number } } | null) => {
      if (!node) return;
      if (node.stat.version < this.configVersion) this.app.violation(`${this.name} saw config version ${node.stat.version} after ${this.configVersion}`);
      this.configVersion = node.stat.version;
    });
  }

  async start(): Promise<void> {
    await this.zk.connected();
    this.connection = 'SyncConnected';
    await this.cache.start();
    await this.latch.start();
  }

  /** Lock turns until the app stops: acquire, increment the counter under the lock, release. */
  async lockLoop(): Promise<void> {
    while (!this.app.stopping) {
      const hold = await this.mutex.tryAcquire({ timeout: 2000 }).catch(() => null);
      if (!hold) {
        await sleep(50);
        continue;
      }
      this.app.lockAcquired(this);
      this.holdsLock = true;
      this.acquisitions++;
      try {
        await this.increment();
        await sleep(Math.random() * this.app.maxHoldMs);
      } finally {
        this.holdsLock = false;
        this.app.lockReleased(this);
        await hold.release().catch(() => undefined);
      }
    }
  }

  private async increment(): Promise<void> {
    let read: { value: number; version: number };
    try {
      const { data, stat } = await this.zk.getData(COUNTER_PATH);
      read = { value: Number(data?.toString() ?? '0'), version: stat.version };
    } catch {
      return; // connection trouble: nothing written, try on the next turn
    }
    this.app.counterRead(read.value);
    try {
      await this.zk.setData(COUNTER_PATH, Buffer.from(String(read.value + 1)), read.version);
      this.app.counter.acked++;
    } catch (e) {
      if (!(e instanceof BadVersionError)) {
        this.app.counter.unknown++; // the reply was lost: it may or may not have landed
      } else if (this.app.counter.unknown === 0) {
        this.app.violation(`${this.name}'s increment under the lock failed BadVersion: someone else wrote the counter`);
      }
      // else: an earlier increment whose reply was lost landed late, after our read: the next read counts it.
    }
  }

  /** While leading: rewrite the config node every interval. */
  leadConfig(): void {
    if (this.leaderLoop) return;
    this.leaderLoop = (async () => {
      while (!this.app.stopping && this.latch.hasLeadership()) {
        const body = JSON.stringify({ writtenBy: this.name, at: new Date().toISOString() });
        await this.zk.setData(CONFIG_PATH, Buffer.from(body)).catch(() => undefined);
        await sleep(this.app.configIntervalMs);
      }
    })().finally(() => (this.leaderLoop = undefined));
  }

  view(): WorkerView {
    const h = this.zk.currentHost;
    const server = this.connection === 'SyncConnected' && h ? `${h.host}:${h.port}` : undefined;
    return {
      name: this.name,
      connection: this.connection,
      server,
      leader: this.latch.hasLeadership(),
      holdsLock: this.holdsLock,
      configVersion: this.configVersion,
      acquisitions: this.acquisitions,
    };
  }

  async close(): Promise<void> {
    await this.leaderLoop;
    await this.cache.close().catch(() => undefined);
    await this.latch.close().catch(() => undefined);
    await this.zk.close().catch(() => undefined);
  }
}

export class DemoApp {
  stopping = false;
  readonly counter = { acked: 0, unknown: 0, lastRead: 0 };
  readonly configIntervalMs: number;
  readonly maxHoldMs: number;
  private readonly workers: Worker[] = [];
  private readonly violations: string[] = [];
  private lockHolder: Worker | null = null;
  private leader: Worker | null = null;
  private lockHandoffs = 0;
  private appElections = 0;
  private loops: Promise<void>[] = [];

  private constructor(private readonly opts: DemoAppOptions) {
    this.configIntervalMs = opts.configIntervalMs ?? 1000;
    this.maxHoldMs = opts.maxHoldMs ?? 40;
  }

  /** Creates the demo's nodes, starts every worker and their lock turns. */
  static async start(opts: DemoAppOptions): Promise<DemoApp> {
    const app = new DemoApp(opts);
    const setup = new ZooKeeper(opts.connectString, { sessionTimeout: opts.sessionTimeoutMs ?? 10_000 });
    try {
      await setup.connected();
      await mkdirs(setup, LEADER_PATH);
      await mkdirs(setup, LOCK_PATH);
      for (const p of [COUNTER_PATH, CONFIG_PATH]) {
        await setup.create(p, Buffer.from(p === COUNTER_PATH ? '0' : '{}')).catch((e: unknown) => {
          if (!(e instanceof NodeExistsError)) throw e;
        });
      }
      // A counter left by an earlier run is where this run starts counting.
      const { data } = await setup.getData(COUNTER_PATH);
      app.counter.acked = app.counter.lastRead = Number(data?.toString() ?? '0');
    } finally {
      await setup.close();
    }
    const n = opts.workers ?? 4;
    for (let i = 1; i <= n; i++) app.workers.push(new Worker(`worker-${i}`, app, opts.connectString, opts.sessionTimeoutMs ?? 10_000));
    try {
      await Promise.all(app.workers.map((w) => w.start()));
    } catch (e) {
      await app.close();
      throw e;
    }
    app.loops = app.workers.map((w) => w.lockLoop());
    return app;
  }

  violation(what: string): void {
    this.violations.push(what);
    this.opts.onEvent?.(`VIOLATION: ${what}`);
  }

  leadershipGained(w: Worker): void {
    if (this.leader && this.leader !== w && this.leader.latch.hasLeadership()) {
      this.violation(`${w.name} became leader while ${this.leader.name} still leads`);
    }
    this.leader = w;
    this.appElections++;
    this.opts.onEvent?.(`${w.name} leads the app`);
    w.leadConfig();
  }

  leadershipLost(w: Worker): void {
    if (this.leader === w) this.leader = null;
  }

  lockAcquired(w: Worker): void {
    if (this.lockHolder && this.lockHolder !== w) this.violation(`${w.name} acquired the lock while ${this.lockHolder.name} holds it`);
    this.lockHolder = w;
    this.lockHandoffs++;
  }

  lockReleased(w: Worker): void {
    if (this.lockHolder === w) this.lockHolder = null;
  }

  /** The counter read under the lock must account for every acknowledged increment and no more than the unknown ones. */
  counterRead(value: number): void {
    const { acked, unknown } = this.counter;
    if (value < acked) this.violation(`the counter reads ${value} but ${acked} increments were acknowledged: a write was lost`);
    else if (value > acked + unknown) this.violation(`the counter reads ${value}, above ${acked} acknowledged + ${unknown} unknown increments`);
    // Unknown increments that did land are acknowledged now: the count is exact again.
    this.counter.unknown = Math.max(0, acked + unknown - value);
    this.counter.acked = value;
    this.counter.lastRead = value;
  }

  view(): DemoAppView {
    const workers = this.workers.map((w) => w.view());
    return {
      workers,
      leader: workers.find((w) => w.leader)?.name ?? null,
      lockHolder: this.lockHolder?.name ?? null,
      configVersion: Math.max(-1, ...workers.map((w) => w.configVersion)),
      lockHandoffs: this.lockHandoffs,
      appElections: this.appElections,
      counter: { ...this.counter },
      violations: [...this.violations],
    };
  }

  /** Stops the lock turns, steps the leader down and closes every session. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
