/**
 * Apache's SessionTrackerImpl for a standalone server: session ids, their
 * negotiated timeouts, the closing flag, and expiry in tickTime buckets.
 * It does not own a timer: the server asks for `nextExpirationTime` and calls
 * `expireDue(now)`, so tests can drive expiry with an injected clock.
 */
import { ErrorCode } from '../../proto/constants';
import { KeeperCodeError } from '../tree/keeper-error';
import { ExpiryQueue } from './expiry-queue';

export interface Session {
  readonly id: bigint;
  timeout: number;
  closing: boolean;
  /** An ensemble leader's record of where the session's client is (a learner, or the leader itself); unset until first used. */
  owner?: unknown;
}

/** Apache's initializeNextSessionId: (time << 24) >>> 8 | serverId << 56, so ids from restarts rarely collide. */
export function initialSessionId(now: number, serverId: number): bigint {
  const t = BigInt.asUintN(64, BigInt(now) << 24n) >> 8n;
  let id = BigInt.asIntN(64, t | (BigInt(serverId) << 56n));
  if (id === -0x8000000000000000n) id++;
  return id;
}

export class SessionTracker {
  readonly sessions = new Map<bigint, Session>();
  private queue: ExpiryQueue<Session>;
  private nextId: bigint;

  constructor(
    readonly tickTime: number,
    private readonly now: () => number,
    serverId = 0,
  ) {
    this.queue = new ExpiryQueue(tickTime, now());
    this.nextId = initialSessionId(now(), serverId);
  }

  /** A fresh id (not yet tracked: the createSession txn's apply adds it). */
  newSessionId(): bigint {
    let id = this.nextId;
    while (this.sessions.has(id)) id = BigInt.asIntN(64, id + 1n);
    this.nextId = BigInt.asIntN(64, id + 1n);
    return id;
  }

  /** Adds (or re-adds after recovery) a session and starts its expiry clock. */
  addSession(id: bigint, timeout: number): Session {
    let s = this.sessions.get(id);
    if (!s) {
      s = { id, timeout, closing: false };
      this.sessions.set(id, s);
    }
    this.queue.update(s, s.timeout, this.now());
    return s;
  }

  /**
   * A committed createSession (SessionTracker.commitSession): adds the
   * session when this tracker does not know it yet (recovery, a learner);
   * one created here already is left as it is.
   */
  commitSession(id: bigint, timeout: number): void {
    if (!this.sessions.has(id)) this.addSession(id, timeout);
  }

  /** Pushes expiry out; false when the session is unknown or closing (the client must be told it expired). */
  touchSession(id: bigint, timeout?: number): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    this.queue.update(s, timeout ?? s.timeout, this.now());
    return true;
  }

  setSessionClosing(id: bigint): void {
    const s = this.sessions.get(id);
    if (s) s.closing = true;
  }

  removeSession(id: bigint): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    this.queue.remove(s);
  }

  /**
   * Throws SessionExpired for an unknown or closing session, as Apache's
   * checkSession; with an `owner`, also SessionMoved when the session's
   * client moved to another server (the first owner seen is recorded).
   */
  checkSession(id: bigint, owner?: unknown): void {
    const s = this.sessions.get(id);
    if (!s) throw new KeeperCodeError(ErrorCode.SESSIONEXPIRED);
    if (s.closing) throw new KeeperCodeError(ErrorCode.SESSIONEXPIRED);
    if (owner === undefined) return;
    if (s.owner === undefined) s.owner = owner;
    else if (s.owner !== owner) throw new KeeperCodeError(ErrorCode.SESSIONMOVED);
  }

  /** The server the session's client is on now (createSession, a revalidation). */
  setOwner(id: bigint, owner: unknown): void {
    const s = this.sessions.get(id);
    if (s) s.owner = owner;
  }

  isActive(id: bigint): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && !s.closing;
  }

  get nextExpirationTime(): number {
    return this.queue.nextExpirationTime;
  }

  /** Sessions whose bucket is due; each is marked closing (its closeSession txn is the caller's job). */
  expireDue(now: number = this.now()): Session[] {
    const due = this.queue.poll(now);
    for (const s of due) s.closing = true;
    return due;
  }

  /** Forgets every session (a learner about to load its leader's snapshot, or to reload its truncated log). */
  clear(): void {
    this.sessions.clear();
    this.queue = new ExpiryQueue(this.tickTime, this.now());
  }

  /** id -> timeout, for snapshots. */
  snapshot(): Map<bigint, number> {
    return new Map([...this.sessions.values()].map((s) => [s.id, s.timeout]));
  }

  /** The expiry buckets with their session ids, empty ones included (for `dump`). */
  expiryBuckets(): Array<{ expiresAt: number; items: bigint[] }> {
    return this.queue.buckets().map((b) => ({ expiresAt: b.expiresAt, items: b.items.map((s) => s.id) }));
  }

  expiryOf(id: bigint): number | undefined {
    const s = this.sessions.get(id);
    return s ? this.queue.expiryOf(s) : undefined;
  }
}
