import { EventEmitter } from 'events';
import { CreateMode, NodeExistsError, NoNodeError, ZooKeeper } from '../../src';
import type { Data } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../state/connection-state';
import { RecipeArgumentError, RecipeClosedError } from '../util/errors';
import { RecipeStateError } from '../cache/support/recipe-errors';
import { ClientSource, HandleSource, isDead } from '../cache/support/client-source';
import { checkNodeName, checkRecipePath, createWithParents, joinPath } from '../cache/support/recipe-paths';
import { retryForever } from '../cache/support/recipe-wait';
import { ChildData, TreeCache } from '../cache/tree-cache';

function toPayload(data: Data): Buffer | null {
  if (data === undefined || data === null) return null;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new RecipeArgumentError('member data must be a Buffer, Uint8Array, string or null');
}

/**
 * GroupMember: join a group as the ephemeral node `<path>/<memberId>`
 * holding this member's data, and watch the live member list (Curator's
 * GroupMember: same layout, a persistent ephemeral node plus a cache of
 * `path`).
 *
 * ```ts
 * import { ZooKeeper } from 'zookeeper-ts';
 * import { GroupMember } from 'zookeeper-ts/recipes';
 *
 * const connect = '127.0.0.1:2181';
 * const me = new GroupMember(() => new ZooKeeper(connect), '/app/workers', 'worker-7', Buffer.from('10.0.0.7:8080'));
 * me.on('join', (id, data) => console.log('joined', id, data?.toString()));
 * me.on('leave', (id) => console.log('left', id));
 * await me.start();                                  // member node created, list loaded
 * console.log([...me.getCurrentMembers().keys()]);
 * await me.close();                                  // leaves the group
 * ```
 *
 * SUSPENDED: the member node lives as long as the session; the list may be
 * stale until RECONNECTED, when it is read again (and our node checked and
 * re-created if missing). LOST: the member node is gone with the session
 * ('leave' for everyone is not emitted: the list is kept); with a handle
 * factory the member joins again in a new session and the list is
 * resynced; with a single handle membership ends ('state' LOST).
 *
 * Events: 'join' (id, data), 'update' (id, data), 'leave' (id), 'state' (ConnectionState), 'error'.
 */
export class GroupMember extends EventEmitter {
  /** This member's ephemeral node (`<path>/<memberId>`). */
  readonly ourPath: string;
  private readonly source: HandleSource;
  private handle: Promise<ZooKeeper> | null = null;
  private readonly cache: TreeCache;
  private payload: Buffer | null;
  private status: 'latent' | 'started' | 'closed' = 'latent';
  private tracker: ConnectionStateTracker | null = null;
  private readonly onState = (s: ConnectionState): void => this.stateChanged(s);

  /** A member `memberId` of the group at `path` with `data` (RecipeArgumentError for a bad path or id). */
  constructor(
    source: ClientSource,
    /** The group's node: members' nodes are its children. */
    readonly path: string,
    /** This member's id (its node's name). */
    readonly memberId: string,
    data?: Data,
  ) {
    super();
    checkRecipePath(path, 'group path');
    checkNodeName(memberId, 'member id');
    this.ourPath = joinPath(path, memberId);
    this.payload = toPayload(data);
    this.source = new HandleSource(source);
    // The cache follows our handle, so one session carries both the member node and the watch.
    this.cache = new TreeCache(() => this.current(), path, { maxDepth: 1 });
    const id = (n: ChildData): string | null => (n.path === this.path ? null : n.path.slice(this.path.length + 1));
    this.cache.on('added', (n: ChildData) => {
      const m = id(n);
      if (m !== null && this.cache.isInitialized) this.emit('join', m, n.data);
    });
    this.cache.on('updated', (n: ChildData) => {
      const m = id(n);
      if (m !== null) this.emit('update', m, n.data);
    });
    this.cache.on('removed', (n: ChildData) => {
      const m = id(n);
      if (m !== null) this.emit('leave', m);
    });
    this.cache.on('error', (e: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  /** Joins (creates our node; parents as containers) and loads the member list. */
  async start(): Promise<void> {
    if (this.status !== 'latent') throw new RecipeClosedError(`group member ${this.ourPath} was already started`);
    this.status = 'started';
    const zk = await this.current();
    if (isDead(zk)) {
      this.status = 'closed';
      throw new RecipeClosedError(`group member ${this.ourPath}: the ZooKeeper handle is closed or its session expired`);
    }
    this.attach(zk);
    await this.join(zk);
    await this.cache.start();
  }

  /** The members now: id -> data. */
  getCurrentMembers(): Map<string, Buffer | null> {
    if (this.status !== 'started') throw new RecipeClosedError(`group member ${this.ourPath} is not started (or closed)`);
    const out = new Map<string, Buffer | null>();
    for (const name of this.cache.getChildren(this.path) ?? []) out.set(name, this.cache.get(joinPath(this.path, name))?.data ?? null);
    return out;
  }

  /** Changes this member's data. */
  async setData(data: Data): Promise<void> {
    if (this.status !== 'started') throw new RecipeClosedError(`group member ${this.ourPath} is not started (or closed)`);
    this.payload = toPayload(data);
    const zk = await this.current();
    await retryForever(zk, () => zk.setData(this.ourPath, this.payload, -1));
  }

  /** Leaves the group (deletes our node) and stops watching. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    const was = this.status;
    this.status = 'closed';
    this.tracker?.off('state', this.onState);
    await this.cache.close();
    if (was !== 'started') return;
    const zk = await this.current().catch(() => null);
    if (zk === null || isDead(zk)) return;
    await retryForever(zk, async () => {
      const stat = await zk.exists(this.ourPath);
      if (stat === null || stat.ephemeralOwner !== zk.sessionId) return;
      await zk.delete(this.ourPath, stat.version).catch((e) => {
        if (!(e instanceof NoNodeError)) throw e;
      });
    }).catch(() => undefined);
  }

  private current(): Promise<ZooKeeper> {
    if (this.handle === null) this.handle = this.source.get();
    return this.handle;
  }

  private attach(zk: ZooKeeper): void {
    this.tracker?.off('state', this.onState);
    this.tracker = ConnectionStateTracker.for(zk);
    // Registered before the cache's listener: on LOST the new handle is asked for before the cache wants it.
    this.tracker.prependListener('state', this.onState);
  }

  private stateChanged(s: ConnectionState): void {
    if (this.status !== 'started') return;
    if (s !== ConnectionState.CONNECTED) this.emit('state', s);
    if (s === ConnectionState.RECONNECTED) {
      void this.current().then((zk) => this.join(zk)).catch((e) => this.report(e));
    } else if (s === ConnectionState.LOST && this.source.renewable) {
      this.handle = this.source.renew().then((zk) => zk!);
      void this.handle
        .then(async (zk) => {
          await zk.connected();
          if (this.status !== 'started') return;
          this.attach(zk);
          await this.join(zk);
        })
        .catch((e) => this.report(e));
    }
  }

  /** Creates our node, or adopts it when this session already made it (a create whose reply was lost). */
  private async join(zk: ZooKeeper): Promise<void> {
    // A node of another session may be our own from a session the client gave
    // up on locally but the server has not expired yet: give it a session
    // timeout to go before calling the id taken.
    const giveUpAt = Date.now() + Math.max(2000, zk.negotiatedTimeout);
    for (;;) {
      const done = await retryForever(zk, async () => {
        try {
          await createWithParents(zk, this.ourPath, this.payload, CreateMode.EPHEMERAL);
          return true;
        } catch (err) {
          if (!(err instanceof NodeExistsError)) throw err;
          const stat = await zk.exists(this.ourPath);
          if (stat === null) return false; // gone again: create it
          if (stat.ephemeralOwner === zk.sessionId) return true;
          if (Date.now() > giveUpAt) throw new RecipeStateError(`member id ${this.memberId} is already in use in ${this.path} (by session 0x${stat.ephemeralOwner.toString(16)})`);
          await new Promise((r) => setTimeout(r, 250));
          return false;
        }
      });
      if (done) return;
    }
  }

  private report(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
