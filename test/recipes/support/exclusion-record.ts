/**
 * The shared record behind the invariant tests: every contender writes
 * when it starts and stops claiming something (a lock, a lease,
 * leadership). The record counts overlaps beyond the allowed number of
 * simultaneous holders, so "never two holders" is asserted from what the
 * contenders themselves claimed.
 *
 * A claim ends when its owner releases it, when the owner hears SUSPENDED
 * or LOST (the recipe's contract: the hold is in doubt / gone), or when the
 * test expires the owner's session (`sessionEnded`, called BEFORE expiring:
 * from then on the server may hand the lock to someone else).
 *
 * A claim made under a session the test has already begun to expire is
 * not a hold: its acquire can complete in the moment between
 * `sessionEnded` and the expiry reaching the owner (as LOST), while the
 * server, having closed the session, already hands the lock on. Such
 * claims are counted apart (`lateClaims`), never as holders.
 */
export interface Violation {
  at: number;
  claimant: string;
  /** Every holder at that moment, the claimant included, with its session id (hex). */
  holders: string[];
}

export class ExclusionRecord {
  private readonly holders = new Map<string, bigint>();
  private readonly endedSessions = new Set<bigint>();
  readonly violations: Violation[] = [];
  /** Claims accepted, per claimant. */
  readonly claims = new Map<string, number>();
  maxConcurrent = 0;
  total = 0;
  /** Claims made under a session the test had already ended (not holds). */
  lateClaims = 0;

  /** @param capacity how many may hold at once (1 for a mutex or a leader). */
  constructor(readonly capacity = 1) {}

  /** `claimant` (under `session`) starts holding. */
  enter(claimant: string, session: bigint): void {
    if (this.holders.has(claimant)) throw new Error(`${claimant} entered twice without leaving`);
    if (this.endedSessions.has(session)) {
      this.lateClaims++;
      return;
    }
    this.holders.set(claimant, session);
    this.total++;
    this.claims.set(claimant, (this.claims.get(claimant) ?? 0) + 1);
    if (this.holders.size > this.capacity) {
      this.violations.push({ at: Date.now(), claimant, holders: [...this.holders].map(([c, sid]) => `${c} (session 0x${sid.toString(16)})`) });
    }
    this.maxConcurrent = Math.max(this.maxConcurrent, this.holders.size);
  }

  /** `claimant` stops holding (a no-op when it already stopped). */
  leave(claimant: string): void {
    this.holders.delete(claimant);
  }

  /** Ends every claim made under `session` (the test is about to expire it). */
  sessionEnded(session: bigint): void {
    this.endedSessions.add(session);
    for (const [c, s] of [...this.holders]) if (s === session) this.holders.delete(c);
  }

  /** Whether `claimant` holds now. */
  holds(claimant: string): boolean {
    return this.holders.has(claimant);
  }

  get current(): number {
    return this.holders.size;
  }
}
