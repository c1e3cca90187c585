/**
 * A TxnStore that keeps everything in memory: what the server uses when it is
 * started without a dataDir (tests, demos). It honours the same contract as
 * the file store (append resolves after the entries are "durable", snapshot
 * replaces older state), so the pipeline cannot tell them apart; a fresh
 * instance loads empty, and `load()` on a used instance returns what it holds,
 * which lets tests exercise recovery without a disk.
 */
import { StatPersisted } from '../../proto';
import type { LoadedState, SnapshotContents, SnapshotNode, TxnEntry, TxnStore } from './types';

export class MemoryTxnStore implements TxnStore {
  private log: TxnEntry[] = [];
  private snap: (SnapshotContents & { zxid: bigint; nodes: SnapshotNode[] }) | null = null;
  private closed = false;
  /** How many append() calls resolved; tests use it to check batching. */
  appendCalls = 0;

  async load(): Promise<LoadedState> {
    const txns = this.log.filter((e) => this.snap === null || e.header.zxid > this.snap.zxid);
    const lastLogged = this.log.length ? this.log[this.log.length - 1].header.zxid : 0n;
    const snapZxid = this.snap?.zxid ?? 0n;
    return { snapshot: this.snap, txns, lastZxid: lastLogged > snapZxid ? lastLogged : snapZxid };
  }

  async append(entries: TxnEntry[]): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    this.log.push(...entries);
    this.appendCalls++;
  }

  async snapshot(zxid: bigint, contents: SnapshotContents, _opts?: { urgent?: boolean }): Promise<void> {
    // Read at once (so a fuzzy source is exact here); stats are copied because a live source hands out the tree's own values.
    const nodes = [...contents.nodes].map((n) => ({ path: n.path, data: n.data, aclRef: n.aclRef, stat: new StatPersisted(n.stat) }));
    this.snap = { zxid, sessions: new Map(contents.sessions), acls: new Map(contents.acls), nodes };
  }

  async purge(_retain: number): Promise<void> {
    if (this.snap) {
      const z = this.snap.zxid;
      this.log = this.log.filter((e) => e.header.zxid > z);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Entries logged so far (for tests). */
  get entries(): readonly TxnEntry[] {
    return this.log;
  }
}
