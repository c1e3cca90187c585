/**
 * The demo's script: with the ensemble up and the app running, kill -9 the
 * leading server, watch the survivors elect a new leader while the app's
 * workers carry on, then restart the killed server and watch it rejoin as
 * a follower. The servers are polled with `srvr` (what `zk-server status`
 * reads) so the view shows each one's Mode and zxid as Apache's tools would.
 *
 * The scenario is driven by a small cluster interface (a member can be
 * killed and started again), so it runs on whatever owns the processes.
 */
import { sendFourLetterWord } from '../four-letter-client';
import { DemoApp, type DemoAppOptions } from './demo-app';
import { ScreenWriter, type ScreenState, type ServerStatus } from './demo-view';

export interface DemoMember {
  id: number;
  clientPort: number;
  /** Kills the member's process with SIGKILL and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the member again on its ports and data directory. */
  start(): Promise<void>;
}

export interface DemoCluster {
  members: DemoMember[];
  connectString: string;
}

export interface DemoOptions {
  cluster: DemoCluster;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  title: string;
  /** Lines under the view (how to connect, how to stop). */
  footer: string;
  /** When to kill the leading server, after the app started. Default 6 s. */
  killAfterMs?: number;
  /** How long the killed server stays down. Default 4 s. */
  downForMs?: number;
  /** Stop on our own this long after the start (default: run until stop()). */
  durationMs?: number;
  /** Stop on our own once the restarted server has rejoined and a few more seconds passed. */
  once?: boolean;
  app?: Omit<DemoAppOptions, 'connectString' | 'onEvent'>;
  /** Redraw interval. Default 250 ms. */
  refreshMs?: number;
}

export interface DemoResult {
  violations: string[];
  /** The happenings, in order, as shown. */
  events: string[];
  serverElections: number;
  lockHandoffs: number;
  /** The killed server came back and followed. */
  rejoined: boolean;
}

async function serverStatus(m: DemoMember): Promise<ServerStatus> {
  try {
    const text = await sendFourLetterWord('127.0.0.1', m.clientPort, 'srvr', { timeoutMs: 500 });
    const mode = /^Mode: (\S+)/m.exec(text)?.[1];
    const zxid = /^Zxid: (\S+)/m.exec(text)?.[1];
    return { id: m.id, clientPort: m.clientPort, mode: mode ?? 'looking', zxid };
  } catch {
    return { id: m.id, clientPort: m.clientPort, mode: 'down' };
  }
}

/** Runs the demo until `stop()` (or the duration); resolves with what happened. */
export class Demo {
  private readonly started = Date.now();
  private readonly events: string[] = [];
  private readonly screen: ScreenWriter;
  private servers: ServerStatus[];
  /** The last server seen leading. */
  private lastLeader: number | undefined;
  private failoverReported = false;
  private serverElections = 0;
  private app?: DemoApp;
  private stopped = false;
  private wake?: () => void;
  private killedAt?: number;
  private killedId?: number;
  private rejoined = false;

  constructor(private readonly opts: DemoOptions) {
    this.screen = new ScreenWriter(opts.out);
    this.servers = opts.cluster.members.map((m) => ({ id: m.id, clientPort: m.clientPort, mode: '?' }));
  }

  /** Stops at the next step (Ctrl-C, SIGTERM). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private note(what: string): void {
    this.events.push(`${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  }

  private state(): ScreenState {
    return {
      title: this.opts.title,
      elapsedMs: Date.now() - this.started,
      servers: this.servers,
      app: this.app?.view(),
      serverElections: this.serverElections,
      events: this.events,
      footer: this.opts.footer,
    };
  }

  private async poll(): Promise<void> {
    this.servers = await Promise.all(this.opts.cluster.members.map(serverStatus));
    const leaders = this.servers.filter((s) => s.mode === 'leader');
    if (leaders.length === 1 && leaders[0].id !== this.lastLeader) {
      const first = this.lastLeader === undefined;
      if (!first) this.serverElections++;
      let after = '';
      if (this.killedAt !== undefined && !this.failoverReported) {
        this.failoverReported = true;
        after = ` (${Date.now() - this.killedAt} ms after the kill)`;
      }
      this.lastLeader = leaders[0].id;
      this.note(`server ${leaders[0].id} leads the ensemble${after}`);
    }
    if (this.killedId !== undefined && !this.rejoined) {
      const s = this.servers.find((x) => x.id === this.killedId)!;
      if (s.mode === 'follower') {
        this.rejoined = true;
        this.note(`server ${s.id} rejoined as a follower (zxid ${s.zxid ?? '?'})`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private draw(): void {
    this.screen.draw(this.state(), this.events);
  }

  async run(): Promise<DemoResult> {
    const o = this.opts;
    const refresh = o.refreshMs ?? 250;
    const ticker = setInterval(() => {
      this.poll().then(() => this.draw(), () => undefined);
    }, refresh);
    try {
      await this.poll();
      this.note(`ensemble up: ${this.servers.map((s) => `server ${s.id} ${s.mode}`).join(', ')}`);
      this.app = await DemoApp.start({ ...o.app, connectString: o.cluster.connectString, onEvent: (e) => this.note(e) });
      this.note(`app started: ${this.app.view().workers.length} workers electing a leader, taking turns on a lock, watching the config node`);
      await this.sleep(o.killAfterMs ?? 6000);
      if (!this.stopped) await this.killLeader();
      await this.sleep(o.downForMs ?? 4000);
      if (!this.stopped && this.killedId !== undefined) {
        const m = o.cluster.members.find((x) => x.id === this.killedId)!;
        this.note(`restarting server ${m.id}`);
        await m.start().catch((e: Error) => this.note(`server ${m.id} did not start again: ${e.message}`));
      }
      const end = o.durationMs !== undefined ? this.started + o.durationMs : Infinity;
      while (!this.stopped && Date.now() < end) {
        if (o.once && this.rejoined) {
          await this.sleep(3000);
          break;
        }
        await this.sleep(Math.min(refresh, end - Date.now()));
      }
    } finally {
      clearInterval(ticker);
      const app = this.app;
      if (app) await app.close().catch(() => undefined);
    }
    const view = this.app?.view();
    this.note(
      `stopped: ${view?.lockHandoffs ?? 0} lock hand-offs, counter at ${view?.counter.acked ?? 0}, ` +
        `${this.serverElections} server election(s), ${view?.violations.length ?? 0} violation(s)`,
    );
    await this.poll().catch(() => undefined);
    this.draw();
    return {
      violations: view?.violations ?? [],
      events: [...this.events],
      serverElections: this.serverElections,
      lockHandoffs: view?.lockHandoffs ?? 0,
      rejoined: this.rejoined,
    };
  }

  private async killLeader(): Promise<void> {
    await this.poll();
    const leader = this.servers.find((s) => s.mode === 'leader');
    const m = leader && this.opts.cluster.members.find((x) => x.id === leader.id);
    if (!m) {
      this.note('no leader to kill right now; skipping the failover');
      return;
    }
    this.killedAt = Date.now();
    this.killedId = m.id;
    await m.kill();
    this.note(`killed server ${m.id}, the leader, with kill -9`);
  }
}
