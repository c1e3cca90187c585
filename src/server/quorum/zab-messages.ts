/**
 * What the ZAB state machines (zab-leader.ts, zab-learner.ts) exchange, as
 * typed messages rather than bytes: the host turns each into a
 * QuorumPacket on the quorum port (quorum-wire.ts) and back. One message is
 * one packet, except `snap`, whose snapshot body follows the packet on the
 * stream (snap-sync.ts).
 *
 * Only the packets that steer discovery, sync and broadcast are here.
 * REQUEST, REVALIDATE and SYNC carry client work; the host handles them
 * beside the machines (the leader machine orders SYNC replies, see
 * ZabLeader.sync).
 */
import type { TxnEntry } from '../persist/types';
import type { SessionTouch } from './quorum-wire';

/** Learner -> leader. */
export type LearnerMessage =
  /** FOLLOWERINFO / OBSERVERINFO: zxid = acceptedEpoch << 32. */
  | { kind: 'learnerInfo'; observer: boolean; acceptedEpoch: bigint; configVersion: bigint }
  /** ACKEPOCH: the learner's last logged zxid and currentEpoch (-1: it had already accepted the epoch). */
  | { kind: 'ackEpoch'; lastZxid: bigint; currentEpoch: bigint }
  /** ACK of a PROPOSAL (or of NEWLEADER / UPTODATE: zxid = newEpoch << 32). */
  | { kind: 'ack'; zxid: bigint }
  /** PING reply (echoing the PING's zxid): the sessions its clients touched since the last one. */
  | { kind: 'ping'; zxid: bigint; touches: SessionTouch[] };

/** Leader -> learner. */
export type LeaderMessage =
  | { kind: 'leaderInfo'; newEpoch: bigint }
  | { kind: 'diff'; zxid: bigint }
  | { kind: 'trunc'; zxid: bigint }
  /** SNAP: the host streams the snapshot it captured at `zxid` right after the packet. */
  | { kind: 'snap'; zxid: bigint; snapshot: SnapshotHandle }
  | { kind: 'proposal'; txn: TxnEntry }
  | { kind: 'commit'; zxid: bigint }
  /** Observers get committed txns whole, never proposals. */
  | { kind: 'inform'; txn: TxnEntry }
  /** COMMIT of a reconfig: the config it holds is in force, led by `designatedLeader` (followers). */
  | { kind: 'commitAndActivate'; zxid: bigint; designatedLeader: bigint }
  /** INFORM of a reconfig (observers). */
  | { kind: 'informAndActivate'; txn: TxnEntry; designatedLeader: bigint }
  | { kind: 'newLeader'; zxid: bigint; config: string }
  | { kind: 'upToDate' }
  | { kind: 'ping'; zxid: bigint }
  /** The reply to a forwarded sync, once every proposal before it committed. */
  | { kind: 'sync' };

export type { SessionTouch };

/**
 * A snapshot the leader's host captured (synchronously, at a zxid) for one
 * SNAP; opaque to the machines. On the learner's side it is what the
 * stream decoder parsed.
 */
export type SnapshotHandle = unknown;

/** Why a role ended; the host then goes back to election. */
export class ZabRoleEndedError extends Error {
  override readonly name = 'ZabRoleEndedError';
}

/** zxid's hex form for log lines. */
export function hex(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}
