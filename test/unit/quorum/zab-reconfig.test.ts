/**
 * Reconfig in the ZAB machines, scripted: the first leader's versioned
 * config (ZOOKEEPER-1783) carried by NEWLEADER and activated at serve; a
 * reconfig proposal needing a quorum of the old and the new config (and the
 * proposals after it too); COMMITANDACTIVATE to followers and
 * INFORMANDACTIVATE to observers with the designated leader; a leader that
 * is no voter of the new config designating a follower, committing nothing
 * more and ending its term; and the learner's side: last seen config from a
 * reconfig PROPOSAL or NEWLEADER, activation, and the role ending when its
 * leader or its own role changes.
 */
import { JuteWriter } from '../../../src/jute';
import { OpCode } from '../../../src/proto/constants';
import { SetDataTxn, TxnHeader } from '../../../src/proto/generated/txn';
import type { TxnEntry } from '../../../src/server/persist/types';
import { MajorityQuorum, type QuorumServer, type QuorumVerifier } from '../../../src/server/quorum/quorum-verifier';
import { LeaderEffect, ZabLeader } from '../../../src/server/quorum/zab-leader';
import { LearnerEffect, ZabLearner, ZabLearnerOptions } from '../../../src/server/quorum/zab-learner';
import { LeaderMessage, LearnerMessage, hex } from '../../../src/server/quorum/zab-messages';
import { makeZxid } from '../../../src/server/zxid';

const TICK = 100;
const Z = (epoch: number, counter: number): bigint => makeZxid(BigInt(epoch), BigInt(counter));

function server(sid: number, type: 'participant' | 'observer' = 'participant'): QuorumServer {
  return { sid: BigInt(sid), host: '127.0.0.1', quorumPort: 2000 + sid, electionPort: 3000 + sid, type, clientAddress: `127.0.0.1:${4000 + sid}` };
}

/** Voters 1-3 and observer 4, unversioned. */
const base = new MajorityQuorum([server(1), server(2), server(3), server(4, 'observer')]);

function reconfigTxn(zxid: bigint, members: QuorumServer[]): { txn: TxnEntry; qv: QuorumVerifier } {
  const qv = new MajorityQuorum(members, zxid);
  const w = new JuteWriter(64);
  new SetDataTxn({ path: '/zookeeper/config', data: Buffer.from(qv.toString()), version: -1 }).serialize(w);
  return { txn: { header: new TxnHeader({ zxid, type: OpCode.reconfig, cxid: 1, clientId: 7n }), body: w.toBuffer() }, qv };
}

function plainTxn(zxid: bigint): TxnEntry {
  return { header: new TxnHeader({ zxid, type: OpCode.setData, cxid: 2, clientId: 7n }), body: Buffer.from('x') };
}

function msg(m: LeaderMessage | LearnerMessage): string {
  switch (m.kind) {
    case 'commitAndActivate':
      return `commitAndActivate(${hex(m.zxid)},${m.designatedLeader})`;
    case 'informAndActivate':
      return `informAndActivate(${hex(m.txn.header.zxid)},${m.designatedLeader})`;
    case 'commit':
    case 'ack':
    case 'newLeader':
      return `${m.kind}(${hex(m.zxid)})`;
    case 'proposal':
    case 'inform':
      return `${m.kind}(${hex(m.txn.header.zxid)})`;
    default:
      return m.kind;
  }
}

function L(effects: LeaderEffect[]): string[] {
  return effects.map((e) => {
    switch (e.kind) {
      case 'send':
        return `${e.to}<-${msg(e.message)}`;
      case 'lastSeenConfig':
        return `lastSeen(${hex(e.verifier.version)})`;
      case 'activateConfig':
        return `activate(${hex(e.verifier.version)},${e.designatedLeader})`;
      case 'committed':
        return `committed(${hex(e.zxid)})`;
      case 'log':
        return `log(${e.entries.map((t) => hex(t.header.zxid)).join(',')})`;
      case 'serve':
      case 'persistAcceptedEpoch':
      case 'persistCurrentEpoch':
        return `${e.kind}(${e.epoch})`;
      default:
        return e.kind;
    }
  });
}

function F(effects: LearnerEffect[]): string[] {
  return effects.map((e) => {
    switch (e.kind) {
      case 'send':
        return `send ${msg(e.message)}`;
      case 'lastSeenConfig':
        return `lastSeen(${hex(e.verifier.version)})`;
      case 'activateConfig':
        return `activate(${hex(e.verifier.version)}${e.designatedLeader !== undefined ? `,${e.designatedLeader}` : ''})`;
      case 'apply':
      case 'log':
        return e.kind === 'apply' ? `apply(${hex(e.txn.header.zxid)})` : `log(${e.entries.map((t) => hex(t.header.zxid)).join(',')})`;
      case 'serve':
      case 'persistCurrentEpoch':
        return `${e.kind}(${e.epoch})`;
      default:
        return e.kind;
    }
  });
}

const info = (observer = false): LearnerMessage => ({ kind: 'learnerInfo', observer, acceptedEpoch: 2n, configVersion: 0n });
const ack = (zxid: bigint): LearnerMessage => ({ kind: 'ack', zxid });

/** Leader 1 of epoch 3 with followers 2, 3 and observer 4 synced (empty DIFF), reconfig on. */
function serving(verifier: QuorumVerifier = base): { leader: ZabLeader; startup: string[] } {
  const leader = new ZabLeader({
    myId: 1n,
    verifier,
    tickTime: TICK,
    initLimit: 10,
    syncLimit: 5,
    acceptedEpoch: 2n,
    currentEpoch: 2n,
    lastZxid: Z(2, 3),
    committedLog: [plainTxn(Z(2, 3))],
    captureSnapshot: () => ({ zxid: Z(2, 3), snapshot: {} }),
    reconfigEnabled: true,
  });
  const startup: string[] = [];
  startup.push(...L(leader.start(0)));
  for (const sid of [2n, 3n]) startup.push(...L(leader.receive(sid, info(), 1)));
  startup.push(...L(leader.receive(4n, info(true), 1)));
  for (const sid of [2n, 3n, 4n]) startup.push(...L(leader.receive(sid, { kind: 'ackEpoch', lastZxid: Z(2, 3), currentEpoch: 2n }, 2)));
  for (const sid of [2n, 3n, 4n]) startup.push(...L(leader.receive(sid, ack(Z(3, 0)), 3)));
  expect(leader.state).toBe('broadcast');
  return { leader, startup };
}

describe('ZabLeader with reconfig', () => {
  test('ZOOKEEPER-1783: the config gets the NEWLEADER zxid as version, carried by NEWLEADER, in force at serve', () => {
    const { leader, startup } = serving();
    // Versioned once the epoch is known, before any NEWLEADER leaves.
    expect(startup.indexOf('lastSeen(0x300000000)')).toBeGreaterThanOrEqual(0);
    expect(startup.indexOf('lastSeen(0x300000000)')).toBeLessThan(startup.findIndex((s) => s.endsWith('newLeader(0x300000000)')));
    // In force (led by us) just before serving.
    const serve = startup.indexOf('serve(3)');
    expect(startup[serve - 1]).toBe('activate(0x300000000,1)');
    expect(leader.verifier.version).toBe(Z(3, 0));
    expect(leader.verifier.toString()).toBe(base.withVersion(Z(3, 0)).toString());
  });

  test('NEWLEADER carries the last seen config text', () => {
    const leader = new ZabLeader({
      myId: 1n, verifier: base, tickTime: TICK, initLimit: 10, syncLimit: 5, acceptedEpoch: 2n, currentEpoch: 2n,
      lastZxid: Z(2, 3), committedLog: [plainTxn(Z(2, 3))], captureSnapshot: () => ({ zxid: Z(2, 3), snapshot: {} }), reconfigEnabled: true,
    });
    leader.start(0);
    leader.receive(2n, info(), 1);
    const out = leader.receive(2n, { kind: 'ackEpoch', lastZxid: Z(2, 3), currentEpoch: 2n }, 2);
    const nl = out.find((e) => e.kind === 'send' && e.message.kind === 'newLeader');
    expect(nl && nl.kind === 'send' && nl.message.kind === 'newLeader' && nl.message.config).toBe(base.withVersion(Z(3, 0)).toString());
  });

  test('a reconfig and the proposals after it need a quorum of the old and the new config; then COMMITANDACTIVATE / INFORMANDACTIVATE', () => {
    const { leader } = serving();
    // Voters 5 and 6 join (not connected): the new config's quorum is 3 of {1,2,3,5,6}.
    const { txn, qv } = reconfigTxn(Z(3, 1), [server(1), server(2), server(3), server(4, 'observer'), server(5), server(6)]);
    // Leader.propose: the last seen config is set before the PROPOSAL leaves.
    expect(L(leader.propose([txn]))).toEqual(['lastSeen(0x300000001)', '2<-proposal(0x300000001)', '3<-proposal(0x300000001)', 'log(0x300000001)']);
    expect(leader.lastSeenVerifier.version).toBe(qv.version);
    expect(L(leader.propose([plainTxn(Z(3, 2))]))).toEqual(['2<-proposal(0x300000002)', '3<-proposal(0x300000002)', 'log(0x300000002)']);
    expect(L(leader.logged(Z(3, 2)))).toEqual([]);
    // {1,2}: a quorum of the old config, not of the new one.
    expect(L(leader.receive(2n, ack(Z(3, 1)), 4))).toEqual([]);
    expect(L(leader.receive(2n, ack(Z(3, 2)), 4))).toEqual([]);
    expect(L(leader.receive(3n, ack(Z(3, 1)), 5))).toEqual([
      'activate(0x300000001,1)',
      '2<-commitAndActivate(0x300000001,1)',
      '3<-commitAndActivate(0x300000001,1)',
      '4<-informAndActivate(0x300000001,1)',
      'committed(0x300000001)',
    ]);
    expect(leader.verifier.version).toBe(qv.version);
    // The next one still waits for 3 of the new voters.
    expect(L(leader.receive(3n, ack(Z(3, 2)), 5))).toEqual(['2<-commit(0x300000002)', '3<-commit(0x300000002)', '4<-inform(0x300000002)', 'committed(0x300000002)']);
  });

  test('a leader that is no voter of the new config designates a follower that acked, commits no more, and ends its term', () => {
    const { leader } = serving();
    const { txn } = reconfigTxn(Z(3, 1), [server(2), server(3), server(4, 'observer')]);
    leader.propose([txn]);
    leader.propose([plainTxn(Z(3, 2))]);
    leader.logged(Z(3, 2));
    // 3 acked both: the candidate that lost the least.
    leader.receive(3n, ack(Z(3, 2)), 4);
    leader.receive(3n, ack(Z(3, 1)), 4);
    expect(L(leader.receive(2n, ack(Z(3, 1)), 4))).toEqual([
      'activate(0x300000001,3)',
      '2<-commitAndActivate(0x300000001,3)',
      '3<-commitAndActivate(0x300000001,3)',
      '4<-informAndActivate(0x300000001,3)',
      'committed(0x300000001)',
    ]);
    // Z(3,2) has a quorum of the new config ({2,3}) but nothing commits here any more.
    expect(L(leader.receive(2n, ack(Z(3, 2)), 5))).toEqual([]);
    // The term ends one ping interval later (the COMMITANDACTIVATE left first).
    const first = L(leader.tick(10));
    expect(first).not.toContain('end');
    const later = L(leader.tick(10 + TICK));
    expect(later).toContain('end');
    expect(leader.endReason).toMatch(/designates another leader/);
  });

  test('isQuorumSynced counts the leader and synced followers that vote in the config asked about', () => {
    const { leader } = serving();
    expect(leader.isQuorumSynced(new MajorityQuorum([server(1), server(2), server(7)]))).toBe(true);
    expect(leader.isQuorumSynced(new MajorityQuorum([server(1), server(7), server(8)]))).toBe(false);
    leader.disconnected(2n);
    expect(leader.isQuorumSynced(new MajorityQuorum([server(1), server(2), server(7)]))).toBe(false);
  });

  test('a server the pending config adds may connect as a follower', () => {
    const { leader } = serving();
    const { txn } = reconfigTxn(Z(3, 1), [server(1), server(2), server(3), server(4, 'observer'), server(5)]);
    leader.propose([txn]);
    expect(L(leader.receive(5n, info(), 6))).toEqual(['5<-leaderInfo']);
  });

  test('a server in no config (a joiner, before its reconfig) is let in as a follower, synced, sent COMMITANDACTIVATE, and counted in no quorum', () => {
    const { leader } = serving();
    expect(L(leader.receive(9n, info(), 6))).toEqual(['9<-leaderInfo']);
    const sync = L(leader.receive(9n, { kind: 'ackEpoch', lastZxid: Z(2, 3), currentEpoch: 2n }, 7));
    expect(sync[sync.length - 1]).toBe('9<-newLeader(0x300000000)');
    leader.receive(9n, ack(Z(3, 0)), 8);
    // Synced: the reconfig adding it finds a quorum of the new config {1, 2, 9} synced.
    expect(leader.isQuorumSynced(new MajorityQuorum([server(1), server(9), server(7)]))).toBe(true);
    // Its acks count in no quorum of the config in force: the leader's and 9's do not commit.
    leader.propose([plainTxn(Z(3, 1))]);
    expect(L(leader.logged(Z(3, 1)))).not.toContain('committed(0x300000001)');
    expect(L(leader.receive(9n, ack(Z(3, 1)), 9))).not.toContain('committed(0x300000001)');
    expect(L(leader.receive(2n, ack(Z(3, 1)), 9))).toContain('committed(0x300000001)');
    // Added by a reconfig, it gets COMMITANDACTIVATE as a follower does.
    const { txn } = reconfigTxn(Z(3, 2), [server(1), server(2), server(3), server(4, 'observer'), server(9)]);
    leader.propose([txn]);
    const effects = L(leader.logged(Z(3, 2)));
    for (const sid of [9n, 2n, 3n]) effects.push(...L(leader.receive(sid, ack(Z(3, 2)), 10)));
    expect(effects).toContain('9<-commitAndActivate(0x300000002,1)');
  });

  test('a configured follower connecting as an observer is still refused', () => {
    const { leader } = serving();
    expect(L(leader.receive(2n, info(true), 6))).toEqual(['drop']);
  });
});

describe('ZabLearner with reconfig', () => {
  const cfg = base.withVersion(Z(3, 0));

  function learner(o: Partial<ZabLearnerOptions> & { myId?: bigint } = {}): ZabLearner {
    const observer = o.observer ?? false;
    const l = new ZabLearner({
      observer,
      tickTime: TICK,
      initLimit: 10,
      syncLimit: 5,
      acceptedEpoch: 2n,
      currentEpoch: 2n,
      lastZxid: Z(2, 3),
      reconfig: { myId: o.myId ?? 2n, leaderId: 1n, verifier: base },
    });
    l.start(0);
    l.receive({ kind: 'leaderInfo', newEpoch: 3n }, 1);
    l.receive({ kind: 'diff', zxid: Z(2, 3) }, 2);
    const nl = F(l.receive({ kind: 'newLeader', zxid: Z(3, 0), config: cfg.toString() }, 2));
    expect(nl[0]).toBe('lastSeen(0x300000000)');
    // UPTODATE: the NEWLEADER config is in force (same members: no change of role or leader).
    expect(F(l.receive({ kind: 'upToDate' }, 3))).toEqual(['activate(0x300000000)', 'send ack(0x300000000)', 'serve(3)']);
    return l;
  }

  test('follower: the reconfig PROPOSAL is the last seen config; COMMITANDACTIVATE with the same leader keeps the role', () => {
    const l = learner();
    const { txn } = reconfigTxn(Z(3, 1), [server(1), server(2), server(3), server(4, 'observer'), server(5, 'observer')]);
    expect(F(l.receive({ kind: 'proposal', txn }, 4))).toEqual(['lastSeen(0x300000001)', 'log(0x300000001)', 'send ack(0x300000001)']);
    expect(F(l.receive({ kind: 'commitAndActivate', zxid: Z(3, 1), designatedLeader: 1n }, 5))).toEqual(['activate(0x300000001,1)', 'apply(0x300000001)']);
    expect(l.state).toBe('broadcast');
    expect(l.verifier!.version).toBe(Z(3, 1));
  });

  test('follower: another designated leader ends the role after the apply', () => {
    const l = learner();
    const { txn } = reconfigTxn(Z(3, 1), [server(2), server(3), server(4, 'observer')]);
    l.receive({ kind: 'proposal', txn }, 4);
    expect(F(l.receive({ kind: 'commitAndActivate', zxid: Z(3, 1), designatedLeader: 3n }, 5))).toEqual(['activate(0x300000001,3)', 'apply(0x300000001)', 'end']);
    expect(l.endReason).toBe('changes proposed in reconfig');
  });

  test('observer: INFORMANDACTIVATE logs, applies and activates; promoted to participant, it ends the role', () => {
    const l = learner({ observer: true, myId: 4n });
    const { txn } = reconfigTxn(Z(3, 1), [server(1), server(2), server(3), server(4)]);
    expect(F(l.receive({ kind: 'informAndActivate', txn, designatedLeader: 1n }, 4))).toEqual(['log(0x300000001)', 'apply(0x300000001)', 'activate(0x300000001,1)', 'end']);
  });

  test('observer: a reconfig that leaves it an observer keeps the role', () => {
    const l = learner({ observer: true, myId: 4n });
    const { txn } = reconfigTxn(Z(3, 1), [server(1), server(2), server(3), server(4, 'observer'), server(5, 'observer')]);
    expect(F(l.receive({ kind: 'informAndActivate', txn, designatedLeader: 1n }, 4))).toEqual(['log(0x300000001)', 'apply(0x300000001)', 'activate(0x300000001,1)']);
    expect(l.state).toBe('broadcast');
  });

  test('without reconfig, COMMITANDACTIVATE only commits', () => {
    const l = new ZabLearner({ observer: false, tickTime: TICK, initLimit: 10, syncLimit: 5, acceptedEpoch: 2n, currentEpoch: 2n, lastZxid: Z(2, 3) });
    l.start(0);
    l.receive({ kind: 'leaderInfo', newEpoch: 3n }, 1);
    l.receive({ kind: 'diff', zxid: Z(2, 3) }, 2);
    l.receive({ kind: 'newLeader', zxid: Z(3, 0), config: cfg.toString() }, 2);
    expect(F(l.receive({ kind: 'upToDate' }, 3))).toEqual(['send ack(0x300000000)', 'serve(3)']);
    const { txn } = reconfigTxn(Z(3, 1), [server(2), server(3)]);
    l.receive({ kind: 'proposal', txn }, 4);
    expect(F(l.receive({ kind: 'commitAndActivate', zxid: Z(3, 1), designatedLeader: 3n }, 5))).toEqual(['apply(0x300000001)']);
  });
});
