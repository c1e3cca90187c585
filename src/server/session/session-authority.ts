/**
 * Who decides about sessions. Standalone and on a leader the server decides
 * locally: the session table, plus createSession/closeSession txns through
 * the request pipeline (LocalSessionAuthority). A learner will forward
 * creates (as requests), revalidations (REVALIDATE) and touches (in its
 * PINGs) to the leader and never expire a session itself; the client-facing
 * code talks to this interface only, so it does not change with the role.
 */
import { OpCode } from '../../proto/constants';
import type { RequestPipeline } from '../request/request-pipeline';
import type { SessionTracker } from './session-tracker';

export interface SessionAuthority {
  /** A new session: resolves once its createSession txn is committed and applied. */
  create(timeout: number): Promise<{ id: bigint; zxid: bigint }>;
  /** A client re-attaching: true while the session lives (its expiry pushed out with `timeout`). */
  revalidate(id: bigint, timeout: number): Promise<boolean>;
  /** Client activity: pushes expiry out; false when the session is closing or gone. */
  touch(id: bigint): boolean;
  /**
   * Expires the sessions due at `now` (each gets a closeSession txn;
   * `onClosed` runs once it is applied). Returns their ids.
   */
  expireDue(now: number, onClosed: (id: bigint) => void): bigint[];
}

export class LocalSessionAuthority implements SessionAuthority {
  /**
   * `owner`: on an ensemble's leader, the owner its own clients' sessions get
   * (a session revalidated here moves here; see SessionTracker.checkSession).
   */
  constructor(
    private readonly sessions: SessionTracker,
    private readonly pipeline: RequestPipeline,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly owner?: unknown,
  ) {}

  async create(timeout: number): Promise<{ id: bigint; zxid: bigint }> {
    const id = this.sessions.newSessionId();
    const rc = await this.pipeline.submitInternal({ sessionId: id, cxid: 0, type: OpCode.createSession, record: null, authInfo: [], timeout, owner: this.owner });
    return { id, zxid: rc.zxid };
  }

  revalidate(id: bigint, timeout: number): Promise<boolean> {
    const valid = this.sessions.touchSession(id, timeout);
    if (valid && this.owner !== undefined) this.sessions.setOwner(id, this.owner);
    return Promise.resolve(valid);
  }

  touch(id: bigint): boolean {
    return this.sessions.touchSession(id);
  }

  expireDue(now: number, onClosed: (id: bigint) => void): bigint[] {
    const due = this.sessions.expireDue(now);
    for (const s of due) {
      this.log(`expiring session 0x${s.id.toString(16)}, timeout of ${s.timeout}ms exceeded`);
      this.pipeline
        .submitInternal({ sessionId: s.id, cxid: 0, type: OpCode.closeSession, record: null, authInfo: [] })
        .then(() => onClosed(s.id))
        .catch((e) => this.log(`closeSession of expired session 0x${s.id.toString(16)} failed: ${(e as Error).message}`));
    }
    return due.map((s) => s.id);
  }
}

/** What a learner's session authority asks of its leader. */
export interface LeaderSessionLink {
  /** REVALIDATE: whether the session lives (the leader moves it to us and pushes its expiry out). */
  revalidate(id: bigint, timeout: number): Promise<boolean>;
}

/**
 * A follower's or observer's sessions (Apache's LearnerSessionTracker with
 * global sessions): creates go to the leader as createSession requests and
 * count once their txn is committed and applied here; revalidations ask
 * the leader; touches are collected and reported in the next PING reply;
 * nothing expires here (the leader's closeSession txn removes a session).
 */
export class LearnerSessionAuthority implements SessionAuthority {
  private touched = new Map<bigint, number>();

  constructor(
    private readonly sessions: SessionTracker,
    private readonly pipeline: RequestPipeline,
    private readonly leader: LeaderSessionLink,
  ) {}

  async create(timeout: number): Promise<{ id: bigint; zxid: bigint }> {
    const id = this.sessions.newSessionId();
    this.touched.set(id, timeout);
    const rc = await this.pipeline.submitInternal({ sessionId: id, cxid: 0, type: OpCode.createSession, record: null, authInfo: [], timeout });
    return { id, zxid: rc.zxid };
  }

  async revalidate(id: bigint, timeout: number): Promise<boolean> {
    const valid = await this.leader.revalidate(id, timeout);
    if (valid) this.touched.set(id, timeout);
    return valid;
  }

  touch(id: bigint): boolean {
    const s = this.sessions.sessions.get(id);
    if (!s || s.closing) return false;
    this.touched.set(id, s.timeout);
    return true;
  }

  expireDue(): bigint[] {
    return [];
  }

  /** The touches since the last call, for a PING reply (Learner.ping: the table is then reset). */
  drainTouches(): { sessionId: bigint; timeout: number }[] {
    const out = [...this.touched].map(([sessionId, timeout]) => ({ sessionId, timeout }));
    this.touched.clear();
    return out;
  }
}

/**
 * A read-only server's sessions (a member cut off from its quorum, with
 * readonlymode.enabled): local to this server, created and expired here
 * without txns, and forgotten when the server leaves read-only mode. A
 * client moving to a read-write server starts a new session there.
 */
export class ReadOnlySessionAuthority implements SessionAuthority {
  private readonly created = new Set<bigint>();

  constructor(
    private readonly sessions: SessionTracker,
    private readonly lastZxid: () => bigint,
  ) {}

  create(timeout: number): Promise<{ id: bigint; zxid: bigint }> {
    const id = this.sessions.newSessionId();
    this.sessions.addSession(id, timeout);
    this.created.add(id);
    return Promise.resolve({ id, zxid: this.lastZxid() });
  }

  revalidate(id: bigint, timeout: number): Promise<boolean> {
    return Promise.resolve(this.sessions.touchSession(id, timeout));
  }

  touch(id: bigint): boolean {
    return this.sessions.touchSession(id);
  }

  expireDue(now: number, onClosed: (id: bigint) => void): bigint[] {
    const due = this.sessions.expireDue(now).map((s) => s.id);
    for (const id of due) this.close(id);
    for (const id of due) onClosed(id);
    return due;
  }

  /** A client's closeSession, or expiry: the session is gone from the table. */
  close(id: bigint): void {
    if (this.created.delete(id)) this.sessions.removeSession(id);
    else this.sessions.setSessionClosing(id);
  }

  /** Leaving read-only mode: the sessions made here never existed anywhere else. */
  dropAll(): void {
    for (const id of this.created) this.sessions.removeSession(id);
    this.created.clear();
  }
}

/**
 * An ensemble member between roles: no session is created, revalidated or
 * expired here (handshakes wait for a role; only a leader expires).
 */
export const NO_SESSION_AUTHORITY: SessionAuthority = {
  create: () => Promise.reject(new Error('not serving: no leader yet')),
  revalidate: () => Promise.resolve(false),
  touch: () => false,
  expireDue: () => [],
};
