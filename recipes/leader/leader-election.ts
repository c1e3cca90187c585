import { EventEmitter } from 'events';
import { KeeperError, ZooKeeper } from '../../src';
import { asyncDispose } from '../lock/dispose';
import { LockLayout } from '../lock/lock-internals';
import { CURATOR_LOCK_NAME, KAZOO_LOCK_NAME, Mutex } from '../lock/mutex';
import { LockHold } from '../lock/sequential-lock';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { RecipeArgumentError, RecipeClosedError, SessionLostError } from '../util/errors';
import { joinPath, validatePath } from '../util/paths';
import { sortBySequence, sortKazooContenders } from '../util/sequence-sort';
import { assertUsable, isDeadHandle } from '../util/session-retry';

/** Runs while leading; leadership ends when it returns (or throws). */
export type LeadershipCallback = (signal: AbortSignal) => unknown | Promise<unknown>;

/** Options of a {@link LeaderElection}. */
export interface LeaderElectionOptions {
  /** This participant's id (stored in its node). */
  id?: string;
  /** Queue again after each term (default false: one term, then requeue() to run again). */
  autoRequeue?: boolean;
  /** Node layout: 'curator' (default) or 'kazoo'. */
  layout?: LockLayout;
}

/**
 * Leader election with a callback that runs while leading, as Curator's
 * LeaderSelector (layout: its InterProcessMutex, `<path>/_c_<uuid>-lock-<seq>`)
 * or kazoo's Election (`{ layout: 'kazoo' }`: `<uuid>__lock__<seq>`, the id as data).
 *
 * ```ts
 * import { LeaderElection } from 'zookeeper-ts/recipes';
 * const election = new LeaderElection(zk, '/services/billing/election', async (signal) => {
 *   // lead until done or until signal aborts (connection in doubt or lost, or close())
 *   while (!signal.aborted) await doLeaderWork();
 * }, { id: 'host-a', autoRequeue: true });
 * election.start();
 * // ... later
 * await election.close();
 * ```
 *
 * Leadership starts only after the lock node is first AND its
 * ephemeralOwner is this session. SUSPENDED or LOST: the callback's signal
 * aborts at once and hasLeadership() turns false (it may be expiring on
 * the server); when the callback returns, the node is released and, with
 * autoRequeue (or after requeue()), the participant queues again.
 */
export class LeaderElection extends EventEmitter {
  /** The election's node: participants' lock nodes are its children. */
  readonly path: string;
  /** This participant's id (the data of its node). */
  readonly id: string;
  private readonly layout: LockLayout;
  private readonly mutex: Mutex;
  private readonly tracker: ConnectionStateTracker;
  private started = false;
  private closed = false;
  private queued = false;
  private running: Promise<void> | null = null;
  private leading: AbortController | null = null;
  private closeCtl = new AbortController();
  private readonly onState = (s: ConnectionState): void => {
    if (s === ConnectionState.SUSPENDED || s === ConnectionState.LOST || s === ConnectionState.READ_ONLY) {
      this.leading?.abort(new SessionLostError(`LeaderElection ${this.path}: connection ${s}`));
    }
  };

  /** An election on `path` that runs `callback` while leading; nothing happens before start(). */
  constructor(
    /** The handle the election works through. */
    readonly zk: ZooKeeper,
    path: string,
    private readonly callback: LeadershipCallback,
    options: LeaderElectionOptions = {},
  ) {
    super();
    this.path = validatePath(path, 'LeaderElection path');
    if (typeof callback !== 'function') throw new RecipeArgumentError('LeaderElection needs a callback function');
    this.layout = options.layout ?? 'curator';
    if (this.layout !== 'curator' && this.layout !== 'kazoo') throw new RecipeArgumentError(`layout must be 'curator' or 'kazoo' (got ${String(this.layout)})`);
    this.id = options.id ?? '';
    this.autoRequeue = options.autoRequeue ?? false;
    this.mutex = new Mutex(zk, this.path, { layout: this.layout, data: Buffer.from(this.id) });
    this.tracker = ConnectionStateTracker.for(zk);
  }

  /** Queue again after each term (the option of the same name; may be changed at any time). */
  autoRequeue: boolean;

  /** Queues for leadership (once; call requeue() after a term to queue again). */
  start(): void {
    if (this.closed) throw new RecipeClosedError(`LeaderElection ${this.path} is closed`);
    if (this.started) throw new RecipeClosedError(`LeaderElection ${this.path}: start() called twice`);
    assertUsable(this.zk, 'LeaderElection.start');
    this.started = true;
    this.tracker.on('state', this.onState);
    this.requeue();
  }

  /** Queues again if not queued or leading. Returns false when already queued. */
  requeue(): boolean {
    if (this.closed || !this.started) throw new RecipeClosedError(`LeaderElection ${this.path} is not started`);
    if (this.queued) return false;
    this.queued = true;
    const previous = this.running ?? Promise.resolve();
    this.running = previous.then(() => this.loop());
    return true;
  }

  /** True while the callback runs as leader and the connection is up. */
  hasLeadership(): boolean {
    return this.leading !== null && !this.leading.signal.aborted;
  }

  /** Stops: aborts a running term, leaves the queue. Resolves once the node is deleted. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracker.off('state', this.onState);
    this.closeCtl.abort(new RecipeClosedError(`LeaderElection ${this.path} was closed`));
    this.leading?.abort(new RecipeClosedError(`LeaderElection ${this.path} was closed`));
    await this.running?.catch(() => undefined);
  }

  /** `await using` support: close(). */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The participants' ids in queue order (the first is the leader). */
  async participants(): Promise<
    {
      /** The participant's id (its node's data). */
      id: string;
      /** Its node's full path. */
      node: string;
    }[]
  > {
    let children: string[];
    try {
      const raw = await this.zk.getChildren(this.path);
      children = this.layout === 'kazoo' ? sortKazooContenders(raw, [KAZOO_LOCK_NAME]) : sortBySequence(raw, [CURATOR_LOCK_NAME]);
    } catch (err) {
      if (err instanceof KeeperError && err.code === -101) return [];
      throw err;
    }
    const out: { id: string; node: string }[] = [];
    for (const child of children) {
      try {
        const { data } = await this.zk.getData(joinPath(this.path, child));
        out.push({ id: data?.toString() ?? '', node: child });
      } catch (err) {
        if (!(err instanceof KeeperError && err.code === -101)) throw err;
      }
    }
    return out;
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.closed || isDeadHandle(this.zk)) {
        this.queued = false;
        return;
      }
      await this.term();
      // Without autoRequeue the term cleared `queued` itself (as soon as the callback returned).
      if (!this.autoRequeue || this.closed) return;
    }
  }

  /**
   * One wait-lead-release cycle. A failed acquire or a failed ownership
   * look does not end the participant's turn (it would then never lead
   * while its session lives): it tries again after a back-off, until it
   * leads once, is closed, or the handle dies.
   */
  private async term(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed || isDeadHandle(this.zk)) {
        this.termOver();
        return;
      }
      let hold: LockHold;
      try {
        hold = await this.mutex.acquire({ signal: this.closeCtl.signal });
      } catch (err) {
        if (!this.closed) this.report(err);
        await this.backoff(attempt);
        continue;
      }
      let led = false;
      try {
        // Lead only with a node of this live session, while connected.
        const node = this.mutex.nodePath;
        let stat: { ephemeralOwner: bigint } | null = null;
        try {
          stat = node === null ? null : await this.zk.exists(node);
        } catch (err) {
          if (!this.closed) this.report(err);
        }
        if (stat !== null && stat.ephemeralOwner === this.zk.sessionId && this.tracker.isConnected() && !this.closed) {
          led = true;
          await this.lead();
        }
      } finally {
        await hold.release().catch(() => undefined);
      }
      if (led) return;
      await this.backoff(attempt);
    }
  }

  /** Runs the callback as leader until it returns; the term is over for the user then. */
  private async lead(): Promise<void> {
    const ctl = new AbortController();
    this.leading = ctl;
    this.emit('isLeader');
    try {
      await this.callback(ctl.signal);
    } catch (err) {
      this.report(err);
    } finally {
      this.leading = null;
      if (!ctl.signal.aborted) ctl.abort(new RecipeClosedError('leadership ended'));
      // The term is over for the user now: requeue() may queue the next one (it runs after our release).
      this.termOver();
      this.emit('notLeader');
    }
  }

  /** Waits before another try (growing, capped); close() cuts it short. */
  private backoff(attempt: number): Promise<void> {
    if (this.closed || isDeadHandle(this.zk)) return Promise.resolve();
    const ms = Math.min(200 * 2 ** Math.min(attempt, 5), 5000);
    return new Promise<void>((resolve) => {
      const signal = this.closeCtl.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private termOver(): void {
    if (!this.autoRequeue) this.queued = false;
  }

  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
