/**
 * The simulations' clock: events ordered by simulated time, ties broken by
 * the order they were scheduled, so one seed always replays the same run.
 */
export interface Scheduled<E> {
  at: number;
  seq: number;
  ev: E;
}

function before<E>(a: Scheduled<E>, b: Scheduled<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A binary min-heap of scheduled events. */
export class EventQueue<E> {
  private h: Scheduled<E>[] = [];
  private seq = 0;

  get size(): number {
    return this.h.length;
  }

  push(at: number, ev: E): void {
    const h = this.h;
    h.push({ at, seq: this.seq++, ev });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop(): Scheduled<E> | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
