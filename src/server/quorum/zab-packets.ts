/**
 * Typed ZAB messages (zab-messages.ts) <-> QuorumPackets (quorum-wire.ts).
 * The state machines never see bytes; the hosts use these two directions
 * per side. Packets that carry client work (REQUEST, REVALIDATE, SYNC) come
 * out as their own kinds for the host to handle beside the machine.
 */
import type { IdFields } from '../../proto';
import { makeZxid } from '../zxid';
import {
  QuorumPacketData,
  QuorumPacketType as T,
  QuorumWireError,
  ZAB_PROTOCOL_VERSION,
  decodeAckEpochData,
  decodeCommitAndActivateData,
  decodeInformAndActivateData,
  decodeLearnerInfo,
  decodePingData,
  decodeProposalData,
  decodeRequestData,
  decodeRevalidateReply,
  decodeRevalidateRequest,
  encodeAckEpochData,
  encodeCommitAndActivateData,
  encodeInformAndActivateData,
  encodeLeaderInfoData,
  encodeLearnerInfo,
  encodeNewLeaderData,
  encodePingData,
  encodeProposalData,
  encodeRequestData,
  encodeRevalidateReply,
  encodeRevalidateRequest,
  quorumPacket,
  type ForwardedRequest,
} from './quorum-wire';
import type { LeaderMessage, LearnerMessage } from './zab-messages';

/** What a leader reads from one learner. */
export type FromLearner =
  | { kind: 'zab'; message: LearnerMessage; sid?: bigint }
  | { kind: 'request'; request: ForwardedRequest; authInfo: IdFields[] }
  | { kind: 'revalidate'; sessionId: bigint; timeout: number };

/** What a learner reads from its leader (`snap` waits for its snapshot from the stream decoder). */
export type FromLeader =
  | { kind: 'zab'; message: LeaderMessage }
  | { kind: 'snapPacket'; zxid: bigint }
  | { kind: 'revalidateReply'; sessionId: bigint; valid: boolean };

/** Leader side: one learner packet; null for a type a learner must not send (Apache logs and skips those). */
export function fromLearnerPacket(p: QuorumPacketData): FromLearner | null {
  switch (p.type) {
    case T.FOLLOWERINFO:
    case T.OBSERVERINFO: {
      const info = decodeLearnerInfo(p.data);
      // Before Zab 1.0 (3.4) a learner skips LEADERINFO/ACKEPOCH: we speak only the 1.0 handshake.
      if (info.protocolVersion < ZAB_PROTOCOL_VERSION) throw new QuorumWireError(`learner ${info.sid} speaks Zab protocol 0x${info.protocolVersion.toString(16)}, before 1.0`);
      const acceptedEpoch = p.zxid >> 32n;
      return {
        kind: 'zab',
        sid: info.sid,
        message: { kind: 'learnerInfo', observer: p.type === T.OBSERVERINFO, acceptedEpoch, configVersion: info.configVersion ?? 0n },
      };
    }
    case T.ACKEPOCH:
      return { kind: 'zab', message: { kind: 'ackEpoch', lastZxid: p.zxid, currentEpoch: decodeAckEpochData(p.data) } };
    case T.ACK:
      return { kind: 'zab', message: { kind: 'ack', zxid: p.zxid } };
    case T.PING:
      return { kind: 'zab', message: { kind: 'ping', zxid: p.zxid, touches: p.data && p.data.length > 0 ? decodePingData(p.data) : [] } };
    case T.REQUEST:
      return { kind: 'request', request: decodeRequestData(p.data), authInfo: p.authinfo ?? [] };
    case T.REVALIDATE: {
      const r = decodeRevalidateRequest(p.data);
      return { kind: 'revalidate', sessionId: r.sessionId, timeout: r.timeout };
    }
    default:
      return null;
  }
}

/** Leader side: the packet for one message (SNAP's snapshot bytes are the host's to stream after it). */
export function toLearnerPacket(m: LeaderMessage): QuorumPacketData {
  switch (m.kind) {
    case 'leaderInfo':
      return quorumPacket(T.LEADERINFO, makeZxid(m.newEpoch, 0n), encodeLeaderInfoData());
    case 'diff':
      return quorumPacket(T.DIFF, m.zxid);
    case 'trunc':
      return quorumPacket(T.TRUNC, m.zxid);
    case 'snap':
      return quorumPacket(T.SNAP, m.zxid);
    case 'proposal':
      return quorumPacket(T.PROPOSAL, m.txn.header.zxid, encodeProposalData(m.txn));
    case 'commit':
      return quorumPacket(T.COMMIT, m.zxid);
    case 'inform':
      return quorumPacket(T.INFORM, m.txn.header.zxid, encodeProposalData(m.txn));
    case 'commitAndActivate':
      return quorumPacket(T.COMMITANDACTIVATE, m.zxid, encodeCommitAndActivateData(m.designatedLeader));
    case 'informAndActivate':
      return quorumPacket(T.INFORMANDACTIVATE, m.txn.header.zxid, encodeInformAndActivateData(m));
    case 'newLeader':
      return quorumPacket(T.NEWLEADER, m.zxid, encodeNewLeaderData(m.config));
    case 'upToDate':
      return quorumPacket(T.UPTODATE, -1n);
    case 'ping':
      return quorumPacket(T.PING, m.zxid);
    case 'sync':
      return quorumPacket(T.SYNC, 0n);
  }
}

export function revalidateReplyPacket(sessionId: bigint, valid: boolean): QuorumPacketData {
  return quorumPacket(T.REVALIDATE, -1n, encodeRevalidateReply({ sessionId, valid }));
}

/** Learner side: one leader packet; null for types a learner ignores. */
export function fromLeaderPacket(p: QuorumPacketData): FromLeader | null {
  switch (p.type) {
    case T.LEADERINFO:
      return { kind: 'zab', message: { kind: 'leaderInfo', newEpoch: p.zxid >> 32n } };
    case T.DIFF:
      return { kind: 'zab', message: { kind: 'diff', zxid: p.zxid } };
    case T.TRUNC:
      return { kind: 'zab', message: { kind: 'trunc', zxid: p.zxid } };
    case T.SNAP:
      return { kind: 'snapPacket', zxid: p.zxid };
    case T.PROPOSAL:
      return { kind: 'zab', message: { kind: 'proposal', txn: decodeProposalData(p.data) } };
    case T.COMMIT:
      return { kind: 'zab', message: { kind: 'commit', zxid: p.zxid } };
    case T.INFORM:
      return { kind: 'zab', message: { kind: 'inform', txn: decodeProposalData(p.data) } };
    case T.NEWLEADER:
      return { kind: 'zab', message: { kind: 'newLeader', zxid: p.zxid, config: p.data?.toString('utf8') ?? '' } };
    case T.UPTODATE:
      return { kind: 'zab', message: { kind: 'upToDate' } };
    case T.PING:
      return { kind: 'zab', message: { kind: 'ping', zxid: p.zxid } };
    case T.SYNC:
      return { kind: 'zab', message: { kind: 'sync' } };
    case T.REVALIDATE: {
      const r = decodeRevalidateReply(p.data);
      return { kind: 'revalidateReply', sessionId: r.sessionId, valid: r.valid };
    }
    case T.COMMITANDACTIVATE:
      return { kind: 'zab', message: { kind: 'commitAndActivate', zxid: p.zxid, designatedLeader: decodeCommitAndActivateData(p.data) } };
    case T.INFORMANDACTIVATE:
      return { kind: 'zab', message: { kind: 'informAndActivate', ...decodeInformAndActivateData(p.data) } };
    default:
      return null;
  }
}

/** Learner side: the packet for one message. */
export function toLeaderPacket(m: LearnerMessage, mySid: bigint, pingAuth: IdFields[] | null = null): QuorumPacketData {
  switch (m.kind) {
    case 'learnerInfo':
      return quorumPacket(m.observer ? T.OBSERVERINFO : T.FOLLOWERINFO, makeZxid(m.acceptedEpoch, 0n), encodeLearnerInfo({ sid: mySid, configVersion: m.configVersion }));
    case 'ackEpoch':
      return quorumPacket(T.ACKEPOCH, m.lastZxid, encodeAckEpochData(m.currentEpoch));
    case 'ack':
      return quorumPacket(T.ACK, m.zxid);
    case 'ping':
      return quorumPacket(T.PING, m.zxid, encodePingData(m.touches), pingAuth);
  }
}

export function requestPacket(request: ForwardedRequest, authInfo: IdFields[]): QuorumPacketData {
  return quorumPacket(T.REQUEST, -1n, encodeRequestData(request), authInfo);
}

export function revalidatePacket(sessionId: bigint, timeout: number): QuorumPacketData {
  return quorumPacket(T.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId, timeout }));
}
