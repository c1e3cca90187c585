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

export const LATCH_NAME = 'latch-';

export interface LeaderLatchOptions {
  /** This participant's id, stored as the node's data (default ''). */
  id?: string;
}

type LatchState = 'latent' | 'started' | 'closed';

export class LeaderLatch extends EventEmitter {
  readonly path: string;
  readonly id: string;
  private state: LatchState = 'latent';
  private leader = false;
  private ourPath: string | null = null;
  private readonly tracker: ConnectionStateTracker;
  private readonly checks = new LocalMutex();
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  constructor(readonly zk: ZooKeeper, path: string, options: LeaderLatchOptions = {}) {
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
    this.tracker.off('state', this.onState);
    this.setLeader(false);
    const node = this.ourPath;
    this.ourPath = null;
    this.emit('closed');
    if (wasStarted && node !== null) await guaranteedDelete(this.zk, node);
  }

  /** `await using` support: close(). */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The participants' ids in latch order (the first is the leader). */
  async participants(): Promise<{ id: string; node: string; isLeader: boolean }[]> {
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

  private async join(): Promise<void> {
    const path = await createProtectedSequential(this.zk, this.path, curatorProtectedPrefix() + LATCH_NAME, Buffer.from(this.id), CreateMode.EPHEMERAL_SEQUENTIAL);
    if (this.state !== 'started') {
      await guaranteedDelete(this.zk, path);
      return;
    }
    this.ourPath = path;
    await this.check();
  }

  /** Looks at the contenders: lead, or watch the predecessor. Serialized: one look at a time. */
  private check(): Promise<void> {
    return this.checks.runExclusive(async () => {
      for (;;) {
        if (this.state !== 'started' || this.ourPath === null) return;
        if (!this.tracker.isConnected()) return; // RECONNECTED triggers the next look
        const ourPath = this.ourPath;
        let children: string[];
        try {
          children = sortBySequence(await untilDone(this.zk, 'LeaderLatch', () => this.zk.getChildren(this.path)), [LATCH_NAME]);
        } catch (err) {
          return this.fail(err);
        }
        const ourIndex = children.indexOf(nodeName(ourPath));
        if (ourIndex < 0) {
          // Our node is gone (deleted by someone, or a new session): join again.
          this.setLeader(false);
          this.ourPath = null;
          try {
            const path = await createProtectedSequential(this.zk, this.path, curatorProtectedPrefix() + LATCH_NAME, Buffer.from(this.id), CreateMode.EPHEMERAL_SEQUENTIAL);
            if (this.state !== 'started') {
              await guaranteedDelete(this.zk, path);
              return;
            }
            this.ourPath = path;
          } catch (err) {
            return this.fail(err);
          }
          continue;
        }
        if (ourIndex === 0) {
          // First in line: lead only if the node really belongs to this live session (CURATOR-504/644/696).
          let owner: bigint | null;
          try {
            const stat = await untilDone(this.zk, 'LeaderLatch', () => this.zk.exists(ourPath));
            owner = stat === null ? null : stat.ephemeralOwner;
          } catch (err) {
            return this.fail(err);
          }
          if (owner === null) continue; // vanished meanwhile: look again
          if (owner !== this.zk.sessionId) {
            this.ourPath = null; // not ours to hold (left by an older session)
            continue;
          }
          if (this.state === 'started' && this.ourPath === ourPath && this.tracker.isConnected()) this.setLeader(true);
          return;
        }
        this.setLeader(false);
        const predecessor = joinPath(this.path, children[ourIndex - 1]);
        const watcher = (ev: { type: number }): void => {
          if (ev.type !== EventType.None) void this.check();
        };
        try {
          await this.zk.getData(predecessor, watcher);
          return; // the watcher calls check() again
        } catch (err) {
          if (err instanceof KeeperError && err.code === -101) continue; // predecessor already gone
          if (err instanceof KeeperError && err.retriable) return; // RECONNECTED looks again
          return this.fail(err);
        }
      }
    });
  }

  private fail(err: unknown): void {
    this.setLeader(false);
    if (isDeadHandle(this.zk) || err instanceof SessionLostError) {
      this.stop(err instanceof SessionLostError ? err : new SessionLostError('LeaderLatch: the session ended', { cause: err }));
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private stop(err: unknown): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
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
        this.ourPath = null; // its node went with the session
        if (isDeadHandle(this.zk)) this.stop(new SessionLostError(`LeaderLatch ${this.path}: the session ended`));
        break;
      case ConnectionState.CONNECTED:
      case ConnectionState.RECONNECTED:
        if (this.ourPath === null) {
          void this.join().catch((err) => this.fail(err));
        } else {
          void this.check();
        }
        break;
    }
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.emit(value ? 'isLeader' : 'notLeader');
  }
}
