import { EventEmitter } from 'events';
import { Mutex as LocalMutex } from 'async-mutex';
import { CreateMode, EventType, KeeperError, ZooKeeper } from '../../src';
import { asyncDispose } from '../lock/dispose';
import { AcquireOptions, toBounds } from '../lock/sequential-lock';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { AcquireTimeoutError, RecipeArgumentError, RecipeClosedError, SessionLostError } from '../util/errors';
import { joinPath, nodeName, validatePath } from '../util/paths';
import { createProtectedSequential, curatorProtectedPrefix } from '../util/protected-create';
import { sortBySequence } from '../util/sequence-sort';
import { abortReason, assertUsable, guaranteedDelete, isDeadHandle, untilDone } from '../util/session-retry';

/** Curator's name part of a latch node. */
export const LATCH_NAME = 'latch-';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5000;
const MAX_PREFIXES = 32;

/** Options of a {@link LeaderLatch}. */
export interface LeaderLatchOptions {
  /** This participant's id, stored as the node's data (default ''). */
  id?: string;
}

type LatchState = 'latent' | 'started' | 'closed';

/**
 * A leader latch with Curator 5's LeaderLatch layout: every participant
 * keeps `<path>/_c_<uuid>-latch-<seq>` (data: its id); the lowest holds
 * leadership. Each participant watches only its predecessor.
 *
 * ```ts
 * import { LeaderLatch } from 'zookeeper-ts/recipes';
 * const latch = new LeaderLatch(zk, '/services/billing/leader', { id: 'host-a' });
 * latch.on('isLeader', () => console.log('leading'));
 * latch.on('notLeader', () => console.log('not leading'));
 * await latch.start();
 * await latch.await({ timeout: 30_000 });         // resolves once leader
 * await latch.close();                             // step down, leave the latch
 * ```
 *
 * Leadership is claimed only when our node is the lowest AND its
 * ephemeralOwner is this session, while the connection is up.
 * SUSPENDED: leadership is given up at once ('notLeader'): the session may
 * be expiring on the server while we cannot hear it. RECONNECTED: the
 * latch looks again and regains leadership if its node is still first.
 * LOST: leadership is gone; a latch whose handle lives on (a new session)
 * joins again with a new node; on a dead handle it stops and await() rejects.
 */
export class LeaderLatch extends EventEmitter {
  /** The latch's node: participants' nodes are its children. */
  readonly path: string;
  /** This participant's id (the data of its node). */
  readonly id: string;
  private state: LatchState = 'latent';
  private leader = false;
  private ourPath: string | null = null;
  private readonly tracker: ConnectionStateTracker;
  private readonly checks = new LocalMutex();
  /** Protected prefixes of the nodes this latch created (to find strays of lost create replies). */
  private readonly prefixes: string[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  /** A latch on `path`; nothing happens before start(). RecipeArgumentError for a bad path or id. */
  constructor(
    /** The handle the latch works through. */
    readonly zk: ZooKeeper,
    path: string,
    options: LeaderLatchOptions = {},
  ) {
    super();
    this.path = validatePath(path, 'LeaderLatch path');
    if (options.id !== undefined && typeof options.id !== 'string') throw new RecipeArgumentError('LeaderLatch id must be a string');
    this.id = options.id ?? '';
    this.tracker = ConnectionStateTracker.for(zk);
  }

  /** Joins the latch (creates our node). Resolves once the node exists; leadership may come later. */
  async start(): Promise<void> {
    if (this.state !== 'latent') throw new RecipeClosedError(`LeaderLatch ${this.path}: start() called twice or after close()`);
    assertUsable(this.zk, 'LeaderLatch.start');
    this.state = 'started';
    this.tracker.on('state', this.onState);
    try {
      await this.join();
    } catch (err) {
      this.state = 'closed';
      this.tracker.off('state', this.onState);
      throw err;
    }
  }

  /** True while this participant leads (and the connection is up). */
  hasLeadership(): boolean {
    return this.leader;
  }

  /** Resolves when leader; rejects on timeout (AcquireTimeoutError), abort, close or a dead handle. */
  await(options?: AcquireOptions): Promise<void> {
    const bounds = toBounds(options);
    if (this.leader) return Promise.resolve();
    if (this.state !== 'started') return Promise.reject(new RecipeClosedError(`LeaderLatch ${this.path} is not started`));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: unknown): void => {
        this.off('isLeader', onLeader);
        this.off('closed', onClosed);
        bounds.signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onLeader = (): void => done();
      const onClosed = (err?: unknown): void => done(err ?? new RecipeClosedError(`LeaderLatch ${this.path} was closed`));
      const onAbort = (): void => done(abortReason(bounds.signal!));
      if (bounds.signal?.aborted) return onAbort();
      this.on('isLeader', onLeader);
      this.on('closed', onClosed);
      bounds.signal?.addEventListener('abort', onAbort, { once: true });
      if (bounds.deadline !== undefined) {
        timer = setTimeout(() => done(new AcquireTimeoutError(`LeaderLatch ${this.path}: not leader in time`)), Math.max(0, bounds.deadline - Date.now()));
      }
    });
  }

  /** Steps down and leaves the latch (our node is deleted, retried through connection loss). Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    this.clearRetry();
    this.tracker.off('state', this.onState);
    this.setLeader(false);
    const node = this.ourPath;
    this.ourPath = null;
    this.emit('closed');
    if (!wasStarted) return;
    // A look in flight may be creating a node: let it finish (it deletes what it creates once closed).
    await this.checks.waitForUnlock();
    if (node !== null) await guaranteedDelete(this.zk, node);
    await this.deleteStrays();
  }

  /** Best effort on close: deletes any other node this latch created (a stray of a lost create reply). */
  private async deleteStrays(): Promise<void> {
    if (isDeadHandle(this.zk) || this.prefixes.length === 0) return;
    try {
      const children = await this.zk.getChildren(this.path);
      for (const c of children) {
        if (this.prefixes.some((p) => c.startsWith(p))) await this.zk.delete(joinPath(this.path, c)).catch(() => undefined);
      }
    } catch {
      // NoNode or a connection problem: an ephemeral stray goes with the session at worst.
    }
  }

  /** `await using` support: close(). */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The participants' ids in latch order (the first is the leader). */
  async participants(): Promise<
    {
      /** The participant's id (its node's data). */
      id: string;
      /** Its node's full path. */
      node: string;
      /** True for the first one. */
      isLeader: boolean;
    }[]
  > {
    let children: string[];
    try {
      children = sortBySequence(await this.zk.getChildren(this.path), [LATCH_NAME]);
    } catch (err) {
      if (err instanceof KeeperError && err.code === -101) return [];
      throw err;
    }
    const out: { id: string; node: string; isLeader: boolean }[] = [];
    for (const child of children) {
      try {
        const { data } = await this.zk.getData(joinPath(this.path, child));
        out.push({ id: data?.toString() ?? '', node: child, isLeader: out.length === 0 });
      } catch (err) {
        if (!(err instanceof KeeperError && err.code === -101)) throw err;
      }
    }
    return out;
  }

  /** Our node's path while started. */
  get nodePath(): string | null {
    return this.ourPath;
  }

  /** Creates our node (protected, so a lost reply does not leak a second one); called with `checks` held. */
  private async createNode(): Promise<string | null> {
    const prefix = curatorProtectedPrefix();
    this.prefixes.push(prefix);
    if (this.prefixes.length > MAX_PREFIXES) this.prefixes.shift();
    const path = await createProtectedSequential(this.zk, this.path, prefix + LATCH_NAME, Buffer.from(this.id), CreateMode.EPHEMERAL_SEQUENTIAL);
    if (this.state !== 'started') {
      await guaranteedDelete(this.zk, path);
      return null;
    }
    this.ourPath = path;
    return path;
  }

  private async join(): Promise<void> {
    const created = await this.checks.runExclusive(() => this.createNode());
    if (created !== null) await this.check();
  }

  /**
   * Looks at the contenders: lead, or watch the predecessor. Serialized: one
   * look at a time, and the only place (after start) that creates our node,
   * so a RECONNECTED or a LOST racing a look cannot make a second node.
   * Every exit either leads, leaves a watch, waits for a connection event
   * (not connected now), or schedules another look (an error): the latch
   * never falls silent while its session lives.
   */
  private check(): Promise<void> {
    return this.checks.runExclusive(async () => {
      for (;;) {
        if (this.state !== 'started') return;
        if (!this.tracker.isConnected()) return; // RECONNECTED (or LOST, then RECONNECTED) triggers the next look
        if (this.ourPath === null) {
          // Lost our node (a new session, or it was deleted): join again.
          this.setLeader(false);
          try {
            if ((await this.createNode()) === null) return;
          } catch (err) {
            return this.retryLater(err);
          }
        }
        const ourPath = this.ourPath!;
        let children: string[];
        try {
          const raw = await untilDone(this.zk, 'LeaderLatch', () =>
            this.zk.getChildren(this.path).catch((err) => {
              if (err instanceof KeeperError && err.code === -101) return [] as string[]; // latch parent gone (a container reaped): our node too
              throw err;
            }),
          );
          if (await this.removeStrays(raw, ourPath)) continue;
          children = sortBySequence(raw, [LATCH_NAME]);
        } catch (err) {
          return this.retryLater(err);
        }
        if (this.ourPath !== ourPath) continue; // LOST meanwhile
        const ourIndex = children.indexOf(nodeName(ourPath));
        if (ourIndex < 0) {
          this.setLeader(false);
          this.ourPath = null;
          continue;
        }
        if (ourIndex === 0) {
          // First in line: lead only if the node really belongs to this live session (CURATOR-504/644/696).
          let owner: bigint | null;
          try {
            const stat = await untilDone(this.zk, 'LeaderLatch', () => this.zk.exists(ourPath));
            owner = stat === null ? null : stat.ephemeralOwner;
          } catch (err) {
            return this.retryLater(err);
          }
          if (this.ourPath !== ourPath) continue;
          if (owner === null) continue; // vanished meanwhile: look again
          if (owner !== this.zk.sessionId) {
            this.ourPath = null; // not ours to hold (left by an older session)
            continue;
          }
          if (!this.tracker.isConnected()) return; // SUSPENDED meanwhile: RECONNECTED looks again
          this.retries = 0;
          if (this.state === 'started') this.setLeader(true);
          return;
        }
        this.setLeader(false);
        const predecessor = joinPath(this.path, children[ourIndex - 1]);
        const watcher = (ev: { type: number }): void => {
          if (ev.type !== EventType.None) void this.check();
        };
        try {
          await this.zk.getData(predecessor, watcher);
          this.retries = 0;
          return; // the watcher calls check() again
        } catch (err) {
          if (err instanceof KeeperError && err.code === -101) continue; // predecessor already gone
          // Retriable or not, look again: a retriable error need not come with a
          // reconnect (SessionMoved, a request timeout), so RECONNECTED alone is not enough.
          return this.retryLater(err);
        }
      }
    });
  }

  /**
   * Deletes nodes this latch created earlier that are not its current node
   * (a create whose reply was lost and that a lagging server did not show
   * yet): left alone, such a node of a live session would block the latch
   * forever. True when something was deleted (look again).
   */
  private async removeStrays(children: string[], ourPath: string): Promise<boolean> {
    const ours = nodeName(ourPath);
    const strays = children.filter((c) => c !== ours && this.prefixes.some((p) => c.startsWith(p)));
    for (const stray of strays) {
      try {
        await this.zk.delete(joinPath(this.path, stray));
      } catch (err) {
        if (!(err instanceof KeeperError && err.code === -101)) throw err;
      }
    }
    return strays.length > 0;
  }

  /** After a failed look: stop on a dead handle, else report and look again after a back-off. */
  private retryLater(err: unknown): void {
    this.setLeader(false);
    if (isDeadHandle(this.zk)) {
      this.stop(err instanceof SessionLostError ? err : new SessionLostError('LeaderLatch: the session ended', { cause: err }));
      return;
    }
    if (this.state !== 'started') return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (this.retryTimer !== undefined) return;
    const delay = Math.min(RETRY_BASE_MS * 2 ** this.retries, RETRY_MAX_MS);
    this.retries = Math.min(this.retries + 1, 10);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.check();
    }, delay * (0.5 + Math.random() / 2));
    // A pending look must not keep a process alive on its own.
    this.retryTimer.unref?.();
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private stop(err: unknown): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearRetry();
    this.tracker.off('state', this.onState);
    this.ourPath = null;
    this.setLeader(false);
    this.emit('closed', err);
  }

  private stateChanged(s: ConnectionState): void {
    if (this.state !== 'started') return;
    switch (s) {
      case ConnectionState.SUSPENDED:
      case ConnectionState.READ_ONLY:
        this.setLeader(false);
        break;
      case ConnectionState.LOST:
        this.setLeader(false);
        this.ourPath = null; // its node went with the session; the next look (on RECONNECTED) joins again
        if (isDeadHandle(this.zk)) this.stop(new SessionLostError(`LeaderLatch ${this.path}: the session ended`));
        break;
      case ConnectionState.CONNECTED:
      case ConnectionState.RECONNECTED:
        void this.check();
        break;
    }
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.emit(value ? 'isLeader' : 'notLeader');
  }
}
