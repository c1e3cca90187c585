/**
 * Apache's ExpiryQueue: elements expire in buckets of `interval` ms (tickTime),
 * so a touch only moves an element when it crosses into a later bucket and
 * one timer per bucket expires many sessions at once. Time is passed in, so
 * tests drive it without a real clock.
 */
export class ExpiryQueue<E> {
  private elemMap = new Map<E, number>();
  private expiryMap = new Map<number, Set<E>>();
  private next: number;

  constructor(
    private readonly interval: number,
    now: number,
  ) {
    this.next = this.roundToNextInterval(now);
  }

  private roundToNextInterval(time: number): number {
    return (Math.floor(time / this.interval) + 1) * this.interval;
  }

  /** When the next bucket is due. */
  get nextExpirationTime(): number {
    return this.next;
  }

  /** Moves `elem` to the bucket for now + timeout; returns the new expiry time, or null if it did not move. */
  update(elem: E, timeout: number, now: number): number | null {
    const prev = this.elemMap.get(elem);
    const expiry = this.roundToNextInterval(now + timeout);
    if (prev === expiry) return null;
    let set = this.expiryMap.get(expiry);
    if (!set) this.expiryMap.set(expiry, (set = new Set()));
    set.add(elem);
    this.elemMap.set(elem, expiry);
    if (prev !== undefined) this.removeFromBucket(elem, prev);
    return expiry;
  }

  remove(elem: E): number | undefined {
    const prev = this.elemMap.get(elem);
    if (prev === undefined) return undefined;
    this.elemMap.delete(elem);
    this.removeFromBucket(elem, prev);
    return prev;
  }

  private removeFromBucket(elem: E, time: number): void {
    // Like Apache, an emptied bucket stays until its time comes: `dump` lists it as "0 expire at ...".
    this.expiryMap.get(time)?.delete(elem);
  }

  /** Takes every element whose bucket is due at `now` (all past buckets too). */
  poll(now: number): E[] {
    if (now < this.next) return [];
    const out: E[] = [];
    const due = [...this.expiryMap.keys()].filter((k) => k <= now).sort((a, b) => a - b);
    for (const k of due) {
      for (const e of this.expiryMap.get(k)!) {
        this.elemMap.delete(e);
        out.push(e);
      }
      this.expiryMap.delete(k);
    }
    this.next = this.roundToNextInterval(now);
    return out;
  }

  /** Every bucket (empty ones included, as Apache's dump shows them), soonest first. */
  buckets(): Array<{ expiresAt: number; items: E[] }> {
    return [...this.expiryMap.entries()].sort((a, b) => a[0] - b[0]).map(([expiresAt, set]) => ({ expiresAt, items: [...set] }));
  }

  expiryOf(elem: E): number | undefined {
    return this.elemMap.get(elem);
  }

  get size(): number {
    return this.elemMap.size;
  }
}
