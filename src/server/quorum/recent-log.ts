/**
 * The newest txns in this member's log, contiguous and ending at its last
 * logged zxid: what a new leader serves DIFFs from (Apache's committedLog,
 * which ZKDatabase fills on load and every logged txn extends). Kept by the
 * quorum peer across terms, because a term's end no longer reloads the log
 * from disk: each host reports what it made durable, cut back on TRUNC and
 * restarted on SNAP.
 */
import type { TxnEntry } from '../persist/types';

export class RecentLog {
  private list: TxnEntry[] = [];

  constructor(private readonly limit = 500) {}

  /** Txns durably appended, in zxid order. */
  append(entries: readonly TxnEntry[]): void {
    for (const e of entries) {
      const last = this.list[this.list.length - 1];
      // A re-logged txn (a DIFF resent after a reconnect) is not kept twice.
      if (last && e.header.zxid <= last.header.zxid) continue;
      this.list.push(e);
    }
    if (this.list.length > this.limit) this.list.splice(0, this.list.length - this.limit);
  }

  /** TRUNC: nothing after `zxid` is on disk any more. */
  truncate(zxid: bigint): void {
    let n = this.list.length;
    while (n > 0 && this.list[n - 1].header.zxid > zxid) n--;
    this.list.length = n;
  }

  /** A fresh start: the log after a (re)load, or nothing after a SNAP replaced the history. */
  reset(entries: readonly TxnEntry[] = []): void {
    this.list = entries.slice(-this.limit);
  }

  entries(): readonly TxnEntry[] {
    return this.list;
  }
}
