/**
 * The one place a committed txn changes server state: the data tree and the
 * session table (ZooKeeperServer.processTxn: createSession commits the
 * session, closeSession removes it), then the per-txn hook (snapshot
 * scheduling). The request pipeline applies live txns through it, recovery
 * applies the log after the snapshot through it, and so will a learner's
 * sync, so the three cannot drift apart.
 */
import type { Record as JuteRecord } from '../../jute/record';
import { OpCode } from '../../proto/constants';
import type { CreateSessionTxn, TxnHeader } from '../../proto/generated/txn';
import { decodeTxnBody } from '../persist/txn-codec';
import type { TxnEntry } from '../persist/types';
import type { SessionTracker } from '../session/session-tracker';
import type { DataTree, TxnResult } from '../tree/data-tree';

export interface TxnApplierDeps {
  tree: DataTree;
  sessions: SessionTracker;
  /** The timeout of a session whose createSession txn carries none (an empty body, as old servers log). */
  defaultSessionTimeout: number;
  /** After each live txn (snapshot scheduling, metrics); not called for recovery. */
  onApplied?: (header: TxnHeader) => void;
}

export class TxnApplier {
  constructor(private readonly deps: TxnApplierDeps) {}

  /**
   * Applies one txn. A KeeperError inside becomes `rc.err` (the tree's rule);
   * anything else is thrown to the caller, after which the txn still counts
   * as processed. `live` is false while replaying the log at start-up.
   */
  apply(header: TxnHeader, txn: JuteRecord | null, live = true): TxnResult {
    const { tree, sessions } = this.deps;
    let rc: TxnResult;
    try {
      rc = tree.processTxn(header, txn);
    } catch (e) {
      if (tree.lastProcessedZxid < header.zxid) tree.lastProcessedZxid = header.zxid;
      throw e;
    } finally {
      if (header.type === OpCode.createSession) {
        sessions.commitSession(header.clientId, (txn as CreateSessionTxn | null)?.timeOut ?? this.deps.defaultSessionTimeout);
      } else if (header.type === OpCode.closeSession) {
        sessions.removeSession(header.clientId);
      }
      // The txn is logged either way, so it counts toward the next snapshot.
      if (live) this.deps.onApplied?.(header);
    }
    return rc;
  }

  /** Applies a logged entry (its body decoded by the one txn codec). */
  applyLogged(entry: TxnEntry, live = true): TxnResult {
    return this.apply(entry.header, decodeTxnBody(entry.header.type, entry.body), live);
  }
}
