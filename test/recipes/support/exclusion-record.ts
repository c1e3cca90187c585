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
 */
export interface Violation {
  at: number;
  claimant: string;
  holders: string[];
}

export class ExclusionRecord {
  private readonly holders = new Map<string, bigint>();
  readonly violations: Violation[] = [];
  /** Claims accepted, per claimant. */
  readonly claims = new Map<string, number>();
  maxConcurrent = 0;
  total = 0;

  /** @param capacity how many may hold at once (1 for a mutex or a leader). */
  constructor(readonly capacity = 1) {}

  /** `claimant` (under `session`) starts holding. */
  enter(claimant: string, session: bigint): void {
    if (this.holders.has(claimant)) throw new Error(`${claimant} entered twice without leaving`);
    this.holders.set(claimant, session);
    this.total++;
    this.claims.set(claimant, (this.claims.get(claimant) ?? 0) + 1);
    if (this.holders.size > this.capacity) {
      this.violations.push({ at: Date.now(), claimant, holders: [...this.holders.keys()] });
    }
    this.maxConcurrent = Math.max(this.maxConcurrent, this.holders.size);
  }

  /** `claimant` stops holding (a no-op when it already stopped). */
  leave(claimant: string): void {
    this.holders.delete(claimant);
  }

  /** Ends every claim made under `session` (the test is about to expire it). */
  sessionEnded(session: bigint): void {
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
