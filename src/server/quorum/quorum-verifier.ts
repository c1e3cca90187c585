/**
 * Who votes and what counts as a quorum: Apache's `QuorumMaj` (a strict
 * majority of the participants) and `QuorumHierarchical` (weights and groups:
 * a majority of groups, each by a majority of its weight). Also the text
 * form Apache puts in every notification and in NEWLEADER
 * (`QuorumVerifier.toString()`), which must match Apache's byte for byte
 * because Java servers parse it.
 */

import { counterOf } from '../zxid';

export type LearnerType = 'participant' | 'observer';

/** One `server.N=` line. */
export interface QuorumServer {
  sid: bigint;
  host: string;
  quorumPort: number;
  electionPort: number;
  type: LearnerType;
  /**
   * "host:port" of the client address when it came from the server line
   * (`;clientHost:clientPort`). Apache prints it in the config text only
   * then, so keep it exactly as the line had it.
   */
  clientAddress?: string;
}

/** The quorum rule every election and ZAB step consults. */
export interface QuorumVerifier {
  /** Config version (`version=` line); 0 with a static config and reconfig off. */
  readonly version: bigint;
  /** Every server (participants and observers), by sid. */
  readonly servers: ReadonlyMap<bigint, QuorumServer>;
  /** True when `sid` is a voting member. */
  isVoter(sid: bigint): boolean;
  /** The voting members, ascending. */
  voters(): bigint[];
  /** A server's weight; 0 means it can never be elected. */
  weight(sid: bigint): number;
  /** True when the voters among `acks` make a quorum. */
  containsQuorum(acks: Iterable<bigint>): boolean;
  /** Apache's text form (`server.N=...` lines, then `version=<hex>`). */
  toString(): string;
  /** The same members and rule under another version (Apache's setVersion, without mutating). */
  withVersion(version: bigint): QuorumVerifier;
}

/**
 * QuorumMaj.equals / QuorumHierarchical.equals: the same version, or the
 * same members with the same addresses and roles. Apache restarts election
 * and re-checks roles only when a new config is not "equal" to the old one.
 */
/**
 * A last seen config (.next) that no reconfig can complete any more: newer
 * than the one in force, versioned by a reconfig txn (not an epoch start,
 * ZOOKEEPER-1783's first version, which has none) that is not in this
 * server's history past its newest snapshot. It was written when the
 * PROPOSAL arrived, before the txn was durable, and a crash, a TRUNC or a
 * SNAP from another history took the txn away; a later term of this server
 * would otherwise put in force, through NEWLEADER, a membership nobody
 * committed. (A reconfig committed in our history is in force, its files
 * written, before a snapshot can take it in.) Dropped at the start of a
 * role; a reconfig still pending elsewhere comes back with its PROPOSAL.
 * Apache keeps it; the reconfig soak (`npm run soak:reconfig`) finds
 * uncommitted configs in force when it is kept.
 */
export function lastSeenIsStale(inForce: QuorumVerifier, lastSeen: QuorumVerifier, txnInHistory: boolean): boolean {
  return lastSeen.version > inForce.version && counterOf(lastSeen.version) !== 0n && !txnInHistory;
}

export function sameConfig(a: QuorumVerifier, b: QuorumVerifier): boolean {
  if (a.version === b.version) return true;
  if (a.servers.size !== b.servers.size) return false;
  for (const [sid, s] of a.servers) {
    const o = b.servers.get(sid);
    if (!o || formatServerLine(o) !== formatServerLine(s)) return false;
  }
  return true;
}

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** One server line's value as `QuorumServer.toString()` prints it. */
export function formatServerLine(s: QuorumServer): string {
  let v = `${hostText(s.host)}:${s.quorumPort}:${s.electionPort}:${s.type}`;
  if (s.clientAddress !== undefined) v += `;${s.clientAddress}`;
  return v;
}

function sortedSids(servers: ReadonlyMap<bigint, QuorumServer>): bigint[] {
  return [...servers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function serverLines(servers: ReadonlyMap<bigint, QuorumServer>): string {
  // Apache iterates a HashMap<Long, ...>; for the small sids real configs use,
  // that is ascending order.
  return sortedSids(servers).map((sid) => `server.${sid}=${formatServerLine(servers.get(sid)!)}\n`).join('');
}

function toServerMap(servers: Iterable<QuorumServer>): Map<bigint, QuorumServer> {
  const m = new Map<bigint, QuorumServer>();
  for (const s of servers) {
    if (m.has(s.sid)) throw new RangeError(`server.${s.sid} is listed twice`);
    m.set(s.sid, s);
  }
  return m;
}

/** Majority of the participants (`QuorumMaj`). */
export class MajorityQuorum implements QuorumVerifier {
  readonly servers: ReadonlyMap<bigint, QuorumServer>;
  private readonly voterSet: Set<bigint>;
  private readonly half: number;

  constructor(servers: Iterable<QuorumServer>, readonly version = 0n) {
    this.servers = toServerMap(servers);
    this.voterSet = new Set([...this.servers.values()].filter((s) => s.type === 'participant').map((s) => s.sid));
    this.half = Math.floor(this.voterSet.size / 2);
  }

  isVoter(sid: bigint): boolean {
    return this.voterSet.has(sid);
  }

  voters(): bigint[] {
    return [...this.voterSet].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  weight(): number {
    // QuorumMaj.getWeight is 1 for everyone: observers are kept from leading by isVoter checks.
    return 1;
  }

  containsQuorum(acks: Iterable<bigint>): boolean {
    let n = 0;
    for (const sid of new Set(acks)) if (this.voterSet.has(sid)) n++;
    return n > this.half;
  }

  toString(): string {
    return `${serverLines(this.servers)}version=${this.version.toString(16)}`;
  }

  withVersion(version: bigint): MajorityQuorum {
    return new MajorityQuorum(this.servers.values(), version);
  }
}

/**
 * Weights and groups (`QuorumHierarchical`): a quorum is a strict majority of
 * the groups that have weight, each counted when the acks in it hold more
 * than half its weight. Servers default to weight 1.
 */
export class HierarchicalQuorum implements QuorumVerifier {
  readonly servers: ReadonlyMap<bigint, QuorumServer>;
  private readonly groupOf = new Map<bigint, bigint>();
  private readonly weights = new Map<bigint, number>();
  private readonly groupWeight = new Map<bigint, number>();
  private readonly numGroups: number;

  constructor(
    servers: Iterable<QuorumServer>,
    readonly groups: ReadonlyMap<bigint, bigint[]>,
    private readonly weightsGiven: ReadonlyMap<bigint, number> = new Map(),
    readonly version = 0n,
  ) {
    const weights = weightsGiven;
    this.servers = toServerMap(servers);
    for (const [gid, sids] of groups) {
      for (const sid of sids) {
        if (this.groupOf.has(sid)) throw new RangeError(`server ${sid} is in two groups`);
        this.groupOf.set(sid, gid);
      }
    }
    for (const s of this.servers.values()) {
      if (s.type === 'participant' && !this.groupOf.has(s.sid)) throw new RangeError(`participant ${s.sid} is in no group`);
      this.weights.set(s.sid, weights.get(s.sid) ?? 1);
    }
    for (const [sid, gid] of this.groupOf) {
      this.groupWeight.set(gid, (this.groupWeight.get(gid) ?? 0) + (this.weights.get(sid) ?? 0));
    }
    this.numGroups = [...this.groupWeight.values()].filter((w) => w > 0).length;
  }

  isVoter(sid: bigint): boolean {
    return this.servers.get(sid)?.type === 'participant';
  }

  voters(): bigint[] {
    return sortedSids(this.servers).filter((sid) => this.isVoter(sid));
  }

  weight(sid: bigint): number {
    return this.weights.get(sid) ?? 0;
  }

  containsQuorum(acks: Iterable<bigint>): boolean {
    const perGroup = new Map<bigint, number>();
    let any = false;
    for (const sid of new Set(acks)) {
      const gid = this.groupOf.get(sid);
      if (gid === undefined || !this.isVoter(sid)) continue;
      any = true;
      perGroup.set(gid, (perGroup.get(gid) ?? 0) + this.weight(sid));
    }
    if (!any) return false;
    let majorities = 0;
    for (const [gid, w] of perGroup) if (w > Math.floor(this.groupWeight.get(gid)! / 2)) majorities++;
    return majorities > Math.floor(this.numGroups / 2);
  }

  toString(): string {
    const gids = [...this.groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const groupLines = gids.map((g) => `group.${g}=${this.groups.get(g)!.join(':')}\n`).join('');
    const weightLines = sortedSids(this.servers)
      .filter((sid) => this.groupOf.has(sid))
      .map((sid) => `weight.${sid}=${this.weight(sid)}\n`)
      .join('');
    return `${serverLines(this.servers)}${groupLines}${weightLines}version=${this.version.toString(16)}`;
  }

  withVersion(version: bigint): HierarchicalQuorum {
    return new HierarchicalQuorum(this.servers.values(), this.groups, this.weightsGiven, version);
  }
}
