/**
 * Scripted scenarios for the FLE state machine: each test plays the other
 * peers by hand (or wires a few machines through a perfect in-memory
 * network) and checks the batched outputs against Apache 3.8's behaviour.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notification, ServerState, decodeNotification } from '../../../src/server/quorum/election-wire';
import {
  ElectionOutput,
  FastLeaderElection,
  NO_VOTE,
  votesEqual,
} from '../../../src/server/quorum/fast-leader-election';
import { HierarchicalQuorum, MajorityQuorum, QuorumServer } from '../../../src/server/quorum/quorum-verifier';

function servers(voters: number, observers: number[] = []): QuorumServer[] {
  const all: QuorumServer[] = [];
  for (let i = 1; i <= voters; i++) all.push({ sid: BigInt(i), host: '127.0.0.1', quorumPort: 2000 + i, electionPort: 3000 + i, type: 'participant' });
  for (const o of observers) all.push({ sid: BigInt(o), host: '127.0.0.1', quorumPort: 2000 + o, electionPort: 3000 + o, type: 'observer' });
  return all;
}

const qv3 = new MajorityQuorum(servers(3, [4]));

function looking(leader: bigint, zxid: bigint, round: bigint, peerEpoch = 0n): Notification {
  return { state: ServerState.LOOKING, leader, zxid, electionEpoch: round, peerEpoch, version: 2, config: qv3.toString() };
}

function note(state: ServerState, leader: bigint, round: bigint, peerEpoch = 1n, zxid = 0n): Notification {
  return { state, leader, zxid, electionEpoch: round, peerEpoch, version: 2, config: qv3.toString() };
}

/** Sids the batch sends to. */
const targets = (o: ElectionOutput) => o.messages.map((m) => m.to).sort();

/** Runs machines over a lossless, in-order network until all decide or `limitMs` passes. */
function runPerfectNetwork(nodes: Map<bigint, FastLeaderElection>, first: Map<bigint, ElectionOutput>, limitMs = 10_000) {
  const queue: { from: bigint; to: bigint; n: Notification }[] = [];
  const decided = new Map<bigint, ElectionOutput['decided']>();
  const next = new Map<bigint, number | undefined>();
  const absorb = (sid: bigint, o: ElectionOutput) => {
    for (const m of o.messages) if (nodes.has(m.to)) queue.push({ from: sid, to: m.to, n: m.notification });
    if (o.decided) decided.set(sid, o.decided);
    next.set(sid, o.nextTickAt);
  };
  for (const [sid, o] of first) absorb(sid, o);
  let now = 0;
  while (now <= limitMs && decided.size < nodes.size) {
    while (queue.length > 0) {
      const m = queue.shift()!;
      absorb(m.to, nodes.get(m.to)!.step(m.from, m.n, now));
    }
    const due = [...next.values()].filter((t): t is number => t !== undefined);
    if (due.length === 0) break;
    now = Math.max(now, Math.min(...due));
    for (const [sid, node] of nodes) if ((next.get(sid) ?? Infinity) <= now) absorb(sid, node.tick(now));
  }
  return { decided, now };
}

function cluster(verifier: MajorityQuorum, history: (sid: bigint) => { lastLoggedZxid: bigint; currentEpoch: bigint }) {
  const nodes = new Map<bigint, FastLeaderElection>();
  const first = new Map<bigint, ElectionOutput>();
  for (const sid of verifier.servers.keys()) nodes.set(sid, new FastLeaderElection({ myId: sid, verifier }));
  for (const [sid, node] of nodes) first.set(sid, node.lookForLeader(0, history(sid)));
  return { nodes, first };
}

describe('FastLeaderElection: whole elections over a perfect network', () => {
  test('fresh ensemble: the highest sid leads, the others follow, the observer observes', () => {
    const { nodes, first } = cluster(qv3, () => ({ lastLoggedZxid: 0n, currentEpoch: 0n }));
    const { decided, now } = runPerfectNetwork(nodes, first);
    expect(decided.get(3n)?.state).toBe(ServerState.LEADING);
    expect(decided.get(1n)?.state).toBe(ServerState.FOLLOWING);
    expect(decided.get(2n)?.state).toBe(ServerState.FOLLOWING);
    expect(decided.get(4n)?.state).toBe(ServerState.OBSERVING);
    for (const d of decided.values()) expect(d!.vote.leader).toBe(3n);
    // Nobody decides before the 200 ms finalize wait.
    expect(now).toBeGreaterThanOrEqual(200);
  });

  test('vote order: peerEpoch first, then zxid, then sid', () => {
    const hist = new Map([
      [1n, { lastLoggedZxid: 0x100000005n, currentEpoch: 2n }],
      [2n, { lastLoggedZxid: 0x1000000ffn, currentEpoch: 1n }],
      [3n, { lastLoggedZxid: 0x100000001n, currentEpoch: 1n }],
      [4n, { lastLoggedZxid: 0n, currentEpoch: 0n }],
    ]);
    const a = cluster(qv3, (sid) => hist.get(sid)!);
    expect(runPerfectNetwork(a.nodes, a.first).decided.get(3n)!.vote).toMatchObject({ leader: 1n, peerEpoch: 2n, zxid: 0x100000005n });
    hist.set(1n, { lastLoggedZxid: 0x100000005n, currentEpoch: 1n });
    const b = cluster(qv3, (sid) => hist.get(sid)!);
    expect(runPerfectNetwork(b.nodes, b.first).decided.get(1n)!.vote.leader).toBe(2n);
  });

  test('five voters, one observer: one leader, everybody agrees', () => {
    const qv5 = new MajorityQuorum(servers(5, [6]));
    const { nodes, first } = cluster(qv5, (sid) => ({ lastLoggedZxid: sid === 2n ? 7n : 3n, currentEpoch: 0n }));
    const { decided } = runPerfectNetwork(nodes, first);
    expect(decided.size).toBe(6);
    expect(new Set([...decided.values()].map((d) => d!.vote.leader))).toEqual(new Set([2n]));
    expect(decided.get(2n)!.state).toBe(ServerState.LEADING);
    expect(decided.get(6n)!.state).toBe(ServerState.OBSERVING);
  });

  test('weights and groups: a quorum is a majority of groups', () => {
    const qh = new HierarchicalQuorum(servers(6), new Map([[1n, [1n, 2n, 3n]], [2n, [4n, 5n, 6n]], [3n, []]]), new Map([[6n, 0]]));
    expect(qh.containsQuorum([1n, 2n])).toBe(false); // one group only
    expect(qh.containsQuorum([1n, 2n, 4n, 5n])).toBe(true);
    expect(qh.containsQuorum([1n, 2n, 4n, 6n])).toBe(false); // 6 weighs nothing
    expect(qh.weight(6n)).toBe(0);
    // Server 6 has the highest sid but weight 0: it can never win.
    const nodes = new Map<bigint, FastLeaderElection>();
    const first = new Map<bigint, ElectionOutput>();
    for (const sid of qh.voters()) nodes.set(sid, new FastLeaderElection({ myId: sid, verifier: qh as unknown as MajorityQuorum }));
    for (const [sid, node] of nodes) first.set(sid, node.lookForLeader(0, { lastLoggedZxid: 0n, currentEpoch: 0n }));
    const { decided } = runPerfectNetwork(nodes, first);
    expect(decided.get(5n)?.state).toBe(ServerState.LEADING);
    expect(decided.get(6n)?.vote.leader).toBe(5n);
  });
});

describe('FastLeaderElection: one machine, scripted peers', () => {
  const fresh = (myId: bigint) => new FastLeaderElection({ myId, verifier: qv3, maxNotificationIntervalMs: 1000 });
  const zero = { lastLoggedZxid: 0n, currentEpoch: 0n };

  test('a new round notifies every voter (not observers), with our config text', () => {
    const fle = fresh(1n);
    const o = fle.lookForLeader(0, { lastLoggedZxid: 5n, currentEpoch: 0n });
    expect(targets(o)).toEqual([2n, 3n]);
    expect(o.messages[0].notification).toEqual(looking(1n, 5n, 1n));
    expect(o.nextTickAt).toBe(200);
    expect(fle.round).toBe(1n);
  });

  test('finalize wait: quorum at t=10, decision only once 200 ms pass with nothing better', () => {
    const fle = fresh(3n);
    fle.lookForLeader(0, zero);
    const o = fle.step(1n, looking(3n, 0n, 1n), 10);
    expect(o.decided).toBeUndefined();
    expect(o.nextTickAt).toBe(210);
    expect(fle.tick(209).decided).toBeUndefined();
    // A message that is not better restarts the wait and is dropped.
    expect(fle.step(2n, looking(2n, 0n, 1n), 150).nextTickAt).toBe(350);
    expect(fle.tick(349).decided).toBeUndefined();
    const d = fle.tick(350).decided!;
    expect(d.state).toBe(ServerState.LEADING);
    expect(d.vote).toMatchObject({ leader: 3n, electionEpoch: 1n, zxid: 0n });
    expect(fle.state).toBe(ServerState.LEADING);
  });

  test('a better vote during the finalize wait cancels it and is adopted', () => {
    const fle = fresh(2n);
    fle.lookForLeader(0, zero);
    fle.step(1n, looking(2n, 0n, 1n), 10); // 1 and 2 agree on 2: quorum, wait
    const o = fle.step(3n, looking(3n, 0n, 1n), 100);
    expect(o.decided).toBeUndefined();
    expect(fle.proposal.leader).toBe(3n);
    expect(targets(o)).toEqual([1n, 3n]);
    expect(o.messages[0].notification.leader).toBe(3n);
    // 2 (self) and 3 now agree on 3: wait again, then follow.
    expect(fle.tick(400).decided).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n } });
  });

  test('notification timeout: re-send and reconnect, back-off doubling up to the maximum', () => {
    const fle = fresh(1n);
    let o = fle.lookForLeader(0, zero);
    const times: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      now = o.nextTickAt!;
      o = fle.tick(now);
      expect(o.connectAll).toBe(true);
      expect(targets(o)).toEqual([2n, 3n]);
      times.push(now);
    }
    expect(times).toEqual([200, 600, 1400, 2400, 3400, 4400]);
    expect(fle.tick(now + 1).messages).toEqual([]);
  });

  test('a higher round resets the votes and adopts the better of (theirs, ours)', () => {
    const fle = fresh(2n);
    fle.lookForLeader(0, { lastLoggedZxid: 9n, currentEpoch: 0n });
    const o = fle.step(3n, looking(1n, 3n, 4n), 10);
    expect(fle.round).toBe(4n);
    // 1's zxid 3 < our 9: we keep our own vote, in round 4.
    expect(o.messages.map((m) => m.notification)).toEqual([looking(2n, 9n, 4n), looking(2n, 9n, 4n)]);
  });

  test('during the finalize wait a higher round that is not better is dropped (Apache does the same)', () => {
    const fle = fresh(2n);
    fle.lookForLeader(0, { lastLoggedZxid: 9n, currentEpoch: 0n });
    fle.step(1n, looking(2n, 9n, 1n), 5);
    expect(fle.step(3n, looking(1n, 3n, 4n), 10).messages).toEqual([]);
    expect(fle.round).toBe(1n);
  });

  test('a LOOKING peer in an older round gets our proposal back; its vote is not counted', () => {
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    fle.step(3n, looking(3n, 0n, 5n), 1);
    const o = fle.step(2n, looking(2n, 0n, 2n), 2);
    expect(o.messages).toEqual([{ to: 2n, notification: looking(3n, 0n, 5n) }]);
  });

  test('zxid -1 votes are ignored', () => {
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    fle.step(3n, looking(3n, -1n, 1n), 1);
    expect(fle.proposal.leader).toBe(1n);
  });

  test('unknown states and votes for observers or unknown sids are ignored', () => {
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    expect(fle.step(2n, { ...looking(3n, 0n, 1n), state: 9 }, 1).messages).toEqual([]);
    fle.step(2n, looking(4n, 100n, 1n), 2);
    fle.step(2n, looking(77n, 100n, 1n), 3);
    expect(fle.proposal.leader).toBe(1n);
  });

  test('observer or unknown sid: immediate reply with the current vote, never counted', () => {
    const fle = fresh(2n);
    fle.lookForLeader(0, { lastLoggedZxid: 4n, currentEpoch: 0n });
    const o = fle.step(4n, looking(NO_VOTE, NO_VOTE, 1n, NO_VOTE), 1);
    // LOOKING: the current vote is still the start-up one (ourselves).
    expect(o.messages).toEqual([{ to: 4n, notification: note(ServerState.LOOKING, 2n, 1n, 0n, 4n) }]);
    expect(fle.step(99n, looking(99n, 1000n, 1n), 2).messages.map((m) => m.to)).toEqual([99n]);
    expect(fle.proposal.leader).toBe(2n);
  });

  test('an observer that asked while we were LOOKING is told the outcome the moment we decide (no waiting out its back-off)', () => {
    const fle = fresh(3n);
    fle.lookForLeader(0, zero);
    // The observer asks mid-election and gets a LOOKING vote it cannot use.
    expect(fle.step(4n, looking(NO_VOTE, NO_VOTE, 1n, NO_VOTE), 1).messages.map((m) => m.notification.state)).toEqual([ServerState.LOOKING]);
    fle.step(1n, looking(3n, 0n, 1n), 5);
    const decided = fle.tick(205);
    expect(decided.decided?.state).toBe(ServerState.LEADING);
    expect(decided.messages).toEqual([{ to: 4n, notification: note(ServerState.LEADING, 3n, 1n, 0n, 0n) }]);
    // Told once: the next election does not repeat it unless the observer asks again.
    fle.lookForLeader(300, zero);
    fle.step(1n, looking(3n, 0n, 2n), 301);
    expect(fle.tick(501).messages.filter((m) => m.to === 4n)).toEqual([]);
  });

  test('no notification storms: a voter ignores a non-LOOKING observer; an observer does not answer an older round', () => {
    const voter = fresh(2n);
    voter.lookForLeader(0, zero);
    expect(voter.step(4n, note(ServerState.OBSERVING, 3n, 1n), 1).messages).toEqual([]);
    const obs = fresh(4n);
    obs.lookForLeader(0, zero);
    obs.lookForLeader(0, zero); // round 2
    expect(obs.step(2n, looking(2n, 0n, 1n), 1).messages).toEqual([]);
    // A voter in the same situation does answer (Apache's rule for voters).
    const v1 = fresh(1n);
    v1.lookForLeader(0, zero);
    v1.lookForLeader(0, zero);
    expect(targets(v1.step(2n, looking(2n, 0n, 1n), 1))).toEqual([2n]);
  });

  test('the observer follows the voters\' choice and decides OBSERVING', () => {
    const fle = fresh(4n);
    const o = fle.lookForLeader(0, zero);
    expect(targets(o)).toEqual([1n, 2n, 3n]);
    expect(o.messages[0].notification).toMatchObject({ leader: NO_VOTE, zxid: NO_VOTE, peerEpoch: NO_VOTE });
    fle.step(2n, looking(3n, 0n, 1n), 1);
    fle.step(3n, looking(3n, 0n, 1n), 2);
    expect(fle.tick(202).decided).toMatchObject({ state: ServerState.OBSERVING, vote: { leader: 3n } });
  });

  test('joining an established ensemble: FOLLOWING + LEADING from another round', () => {
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    fle.lookForLeader(0, zero); // round 2 now; the others decided in round 1
    expect(fle.step(2n, note(ServerState.FOLLOWING, 3n, 1n), 1).decided).toBeUndefined();
    const d = fle.step(3n, note(ServerState.LEADING, 3n, 1n), 2).decided!;
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n, electionEpoch: 1n, peerEpoch: 1n } });
    expect(fle.round).toBe(1n);
  });

  test('no joining without the leader itself saying LEADING', () => {
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    fle.step(2n, note(ServerState.FOLLOWING, 3n, 1n), 1);
    expect(fle.step(3n, note(ServerState.FOLLOWING, 3n, 1n), 2).decided).toBeUndefined();
    expect(fle.state).toBe(ServerState.LOOKING);
  });

  test('the Apache 3.8 leader\'s and follower\'s captured replies make us follow server 3', () => {
    const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/quorum/apache-3.8-election.json'), 'utf8'));
    const frame = (k: string) => {
      const b = Buffer.from(fx.captures[k].received, 'hex');
      return decodeNotification(b.subarray(4, 4 + b.readInt32BE(0)));
    };
    const fle = fresh(1n);
    fle.lookForLeader(0, zero);
    fle.step(2n, frame('from-2-reply'), 1);
    expect(fle.step(3n, frame('from-3-reply'), 2).decided).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n } });
  });

  test('after deciding: answer LOOKING peers with the decided vote and real state; ignore non-LOOKING peers', () => {
    const fle = fresh(3n);
    fle.lookForLeader(0, zero);
    fle.step(2n, looking(3n, 0n, 1n), 1);
    fle.tick(201);
    expect(fle.state).toBe(ServerState.LEADING);
    fle.updateElectionVote(1n);
    const o = fle.step(1n, looking(1n, 0n, 3n), 500);
    expect(o.messages).toEqual([{ to: 1n, notification: note(ServerState.LEADING, 3n, 1n, 1n) }]);
    expect(o.lookingPeers).toEqual([1n]);
    expect(o.nextTickAt).toBeUndefined();
    expect(fle.step(2n, note(ServerState.FOLLOWING, 3n, 1n), 501).messages).toEqual([]);
    // ZAB gave up: a new round starts from what is on disk now.
    const again = fle.lookForLeader(600, { lastLoggedZxid: 0x100000003n, currentEpoch: 1n });
    expect(fle.round).toBe(2n);
    expect(again.messages[0].notification).toEqual(looking(3n, 0x100000003n, 2n, 1n));
  });

  test('Vote.equals: LOOKING compares all four fields; out-of-election compares leader and peerEpoch, or leader only across versions', () => {
    const v = { leader: 3n, zxid: 1n, electionEpoch: 1n, peerEpoch: 1n, state: ServerState.LOOKING, version: 2 };
    expect(votesEqual(v, { ...v, zxid: 2n })).toBe(false);
    const f = { ...v, state: ServerState.FOLLOWING };
    expect(votesEqual(f, { ...f, zxid: 2n, electionEpoch: 7n })).toBe(true);
    expect(votesEqual(f, { ...f, peerEpoch: 2n })).toBe(false);
    expect(votesEqual(f, { ...f, peerEpoch: 2n, version: 0 })).toBe(true);
  });

  test('constructing with a sid outside the config is refused', () => {
    expect(() => new FastLeaderElection({ myId: 9n, verifier: qv3 })).toThrow(RangeError);
  });
});

/**
 * A server joining by reconfig starts from a config that lists it; the
 * ensemble's newer config comes in the election (notification v2's config
 * text), as Apache's WorkerReceiver takes it while LOOKING: adopted, a new
 * round under it, and without us in it we follow as a non-voter.
 */
describe('adopting a newer config from a notification (reconfigEnabled)', () => {
  // The joiner's own config: the ensemble's three voters and itself, unversioned.
  const joinerView = new MajorityQuorum(servers(4));
  const ensemble = new MajorityQuorum(servers(3), 0x100000000n);
  const zero = { lastLoggedZxid: 0n, currentEpoch: 0n };
  const from = (state: ServerState, leader: bigint, config: string): Notification =>
    ({ state, leader, zxid: 0x100000002n, electionEpoch: 1n, peerEpoch: 1n, version: 2, config });

  function joiner(adoptNewerConfigs = true, view = joinerView): FastLeaderElection {
    const fle = new FastLeaderElection({ myId: 4n, verifier: view, adoptNewerConfigs });
    fle.lookForLeader(0, zero);
    return fle;
  }

  test('a newer config is adopted, uncounted, and a new round starts under it; a non-member then follows the established leader', () => {
    const fle = joiner();
    const out = fle.step(1n, from(ServerState.FOLLOWING, 3n, ensemble.toString()), 5);
    expect(out.adoptedConfig?.version).toBe(0x100000000n);
    expect(fle.verifier.toString()).toBe(ensemble.toString());
    expect(fle.round).toBe(2n);
    expect(out.decided).toBeUndefined();
    // Not a voter of it: the new round's vote is Long.MIN_VALUE, sent to its voters only, carrying its text.
    expect(targets(out)).toEqual([1n, 2n, 3n]);
    expect(out.messages[0].notification).toMatchObject({ leader: NO_VOTE, zxid: NO_VOTE, peerEpoch: NO_VOTE, config: ensemble.toString() });
    fle.step(1n, from(ServerState.FOLLOWING, 3n, ensemble.toString()), 6);
    const d = fle.step(3n, from(ServerState.LEADING, 3n, ensemble.toString()), 7).decided;
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 3n }, via: 'join' });
  });

  test('a configured observer the newer config does not list follows as well (Apache: learnerType PARTICIPANT)', () => {
    const fle = joiner(true, new MajorityQuorum(servers(3, [4])));
    expect(fle.step(2n, from(ServerState.FOLLOWING, 3n, ensemble.toString()), 5).adoptedConfig).toBeDefined();
    fle.step(2n, from(ServerState.FOLLOWING, 3n, ensemble.toString()), 6);
    expect(fle.step(3n, from(ServerState.LEADING, 3n, ensemble.toString()), 7).decided?.state).toBe(ServerState.FOLLOWING);
  });

  test('not adopted: with reconfig off, when not LOOKING, an older or equal version, a v1 notification, or text that does not parse', () => {
    const older = new MajorityQuorum(servers(3), 0n).toString();
    expect(joiner(false).step(1n, from(ServerState.FOLLOWING, 3n, ensemble.toString()), 5).adoptedConfig).toBeUndefined();
    expect(joiner().step(1n, from(ServerState.FOLLOWING, 3n, older), 5).adoptedConfig).toBeUndefined();
    expect(joiner().step(1n, { ...from(ServerState.FOLLOWING, 3n, ensemble.toString()), version: 1, config: undefined }, 5).adoptedConfig).toBeUndefined();
    expect(joiner().step(1n, from(ServerState.FOLLOWING, 3n, 'server.x=nonsense\nversion=ffff'), 5).adoptedConfig).toBeUndefined();
    const decided = new FastLeaderElection({ myId: 1n, verifier: qv3, adoptNewerConfigs: true });
    decided.lookForLeader(0, zero);
    decided.step(2n, note(ServerState.FOLLOWING, 3n, 1n), 1);
    decided.step(3n, note(ServerState.LEADING, 3n, 1n), 2);
    expect(decided.state).toBe(ServerState.FOLLOWING);
    expect(decided.step(2n, from(ServerState.LOOKING, 2n, ensemble.withVersion(0x200000000n).toString()), 3).adoptedConfig).toBeUndefined();
    expect(decided.verifier).toBe(qv3);
  });
});

describe('the leader a committed reconfig designated (QuorumPeer.updateVote + reconfigFlag)', () => {
  const zero = { lastLoggedZxid: 0n, currentEpoch: 0n };
  const reconfigZxid = 0x100000007n;

  /** Server `sid` of qv3, decided FOLLOWING 3 in round 1. */
  function following3(sid: bigint): FastLeaderElection {
    const fle = new FastLeaderElection({ myId: sid, verifier: qv3 });
    fle.lookForLeader(0, zero);
    fle.step(sid === 1n ? 2n : 1n, note(ServerState.FOLLOWING, 3n, 1n), 1);
    fle.step(3n, note(ServerState.LEADING, 3n, 1n), 2);
    expect(fle.state).toBe(ServerState.FOLLOWING);
    return fle;
  }

  test('no round: the round counter stays, the vote is Vote(leader, zxid) with round and peerEpoch -1, the state LEADING for ourselves, else FOLLOWING or OBSERVING', () => {
    const one = following3(1n);
    const d = one.designate(1n, reconfigZxid);
    expect(d).toEqual({ state: ServerState.LEADING, via: 'designated', vote: { leader: 1n, zxid: reconfigZxid, electionEpoch: -1n, peerEpoch: -1n, state: ServerState.LOOKING, version: 0 } });
    expect({ state: one.state, round: one.round }).toEqual({ state: ServerState.LEADING, round: 1n });
    expect(following3(2n).designate(1n, reconfigZxid).state).toBe(ServerState.FOLLOWING);
    const observer = new FastLeaderElection({ myId: 4n, verifier: qv3 });
    observer.lookForLeader(0, zero);
    expect(observer.designate(1n, reconfigZxid)).toMatchObject({ state: ServerState.OBSERVING, vote: { leader: 1n } });
    expect(observer.round).toBe(1n);
  });

  test('a LOOKING peer is answered with the designated vote, its epoch once ZAB synced; a quorum of them lets it join without a round of its own', () => {
    const one = following3(1n);
    const two = following3(2n);
    one.designate(1n, reconfigZxid);
    two.designate(1n, reconfigZxid);
    one.updateElectionVote(2n);
    two.updateElectionVote(2n);
    const three = new FastLeaderElection({ myId: 3n, verifier: qv3 });
    const asks = three.lookForLeader(10, zero).messages.find((m) => m.to === 1n)!.notification;
    const fromOne = one.step(3n, asks, 11).messages;
    expect(fromOne).toEqual([{ to: 3n, notification: note(ServerState.LEADING, 1n, -1n, 2n, reconfigZxid) }]);
    const fromTwo = two.step(3n, asks, 11).messages;
    expect(fromTwo).toEqual([{ to: 3n, notification: note(ServerState.FOLLOWING, 1n, -1n, 2n, reconfigZxid) }]);
    three.step(2n, fromTwo[0].notification, 12);
    const d = three.step(1n, fromOne[0].notification, 13).decided;
    expect(d).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 1n, peerEpoch: 2n }, via: 'join' });
  });

  test('when the designated leader does not come up, the next lookForLeader is an ordinary round after the one before', () => {
    const two = following3(2n);
    two.designate(1n, reconfigZxid);
    const out = two.lookForLeader(20, { lastLoggedZxid: reconfigZxid, currentEpoch: 1n });
    expect(two.round).toBe(2n);
    expect(two.state).toBe(ServerState.LOOKING);
    expect(out.messages.map((m) => m.notification)).toContainEqual(looking(2n, reconfigZxid, 2n, 1n));
  });
});
