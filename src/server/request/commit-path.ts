/**
 * The commit seam between the request pipeline and what makes a txn
 * committed, and where zxids come from.
 *
 * The pipeline preps writes in zxid order, hands each batch to a CommitPath,
 * and applies and answers a txn only once its batch's promise resolved:
 *   - standalone: committed = fsynced to the local log (localCommit);
 *   - a ZAB leader: committed = acked by a quorum (its own log included).
 * A rejection with LeadershipLostError abandons the txns in flight (their
 * clients lose the connection, i.e. ConnectionLoss, as Apache's clients do
 * when their server stops leading) and the pipeline stays usable for the
 * next role. Any other rejection is a store failure and is fatal.
 */
import type { TxnEntry, TxnStore } from '../persist/types';
import { counterOf, epochOf, makeZxid } from '../zxid';

export interface CommitPath {
  /** Takes txns in zxid order; resolves once they are committed, rejects if they never will be. */
  commit(entries: TxnEntry[]): Promise<void>;
}

/** Standalone: a txn is committed once the local store has it on disk. */
export function localCommit(store: TxnStore): CommitPath {
  return { commit: (entries) => store.append(entries) };
}

/** An ensemble member between roles: nothing commits (a txn made now would be in no one's history). */
export const NOT_SERVING: CommitPath = {
  commit: () => Promise.reject(new LeadershipLostError('not serving: no leader yet')),
};

/** The server stopped leading (or lost its leader) with txns in flight: they are abandoned, not failed. */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError';
}

/** The 32-bit counter of the current epoch is used up: Apache forces a new election then. */
export class ZxidRolloverError extends Error {
  override readonly name = 'ZxidRolloverError';
}

/**
 * zxid = epoch << 32 | counter. A standalone server counts on from the last
 * zxid on disk; a leader starts each epoch at counter 0 (startEpoch) and must
 * not roll the counter over into the epoch bits.
 */
export class ZxidSource {
  private epochMode = false;

  constructor(private last: bigint = 0n) {}

  /** The last zxid handed out (or the starting point). */
  get lastZxid(): bigint {
    return this.last;
  }

  /** The zxid the next txn gets; nothing is taken until take(). */
  peek(): bigint {
    if (this.epochMode && counterOf(this.last) === 0xffffffffn) {
      throw new ZxidRolloverError(`zxid counter of epoch ${epochOf(this.last)} is exhausted`);
    }
    return this.last + 1n;
  }

  /** Marks `zxid` (the value peek() gave) as used. */
  take(zxid: bigint): void {
    this.last = zxid;
  }

  /** Continues after `zxid` (recovery, or a learner's synced history). */
  reset(zxid: bigint): void {
    this.last = zxid;
    this.epochMode = false;
  }

  /** A leader's new epoch: its first txn is epoch << 32 | 1. */
  startEpoch(epoch: bigint): void {
    this.last = makeZxid(epoch, 0n);
    this.epochMode = true;
  }
}
