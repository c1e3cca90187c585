/**
 * A reconfig that changes the leader, as Apache 3.8's QuorumPeer handles it
 * (reconfigFlag, updateVote, updateServerState): the leader that is no
 * voter of the new config designates a follower (Leader.getDesignatedLeader)
 * in its COMMITANDACTIVATE, and nobody elects: the designated one goes
 * straight to LEADING, the others (the old leader too, as a non-voter)
 * straight to following it. Only when the designated leader does not come
 * up do the role's timeouts end it and an election follow.
 *
 * Five voters in this process on loopback (reconfigEnabled, super digest):
 * the leader is removed (no election round anywhere, the designated one
 * leads the next epoch, nothing committed lost), then the new leader is
 * removed and the one it designates dies as it is about to lead (the others
 * try it, then elect among the three voters left).
 */
import { InProcessPeers, SUPER, type PeerMember as Member } from './in-process-peers';

jest.setTimeout(90_000);

const peers = new InProcessPeers();
const members = peers.members;
/** Armed: the leader the next committed config designates is closed the moment it is about to lead. */
let killDesignated = false;
let killWhenDesignatedToLead: bigint | undefined;

const explain = () => peers.explain();
const member = (sid: bigint) => peers.member(sid);
const live = () => members.filter((m) => !m.closing);
/** Where each member's log is now, to look at what comes after. */
const mark = () => new Map(members.map((m) => [m.sid, m.log.length]));
const since = (at: Map<bigint, number>, m: Member) => m.log.slice(at.get(m.sid));
const newRounds = (lines: string[]) => lines.filter((l) => l.includes('election: new round'));
const connect = (ms: Member[], authInfo?: typeof SUPER) => peers.connect(ms, authInfo);
const waitUntil = (what: string, probe: () => boolean | Promise<boolean>) => peers.waitUntil(what, probe);

/** The leader the old leader's commit designated (LeaderHost logs it with the config in force). */
function designatedBy(leader: Member, at: Map<bigint, number>, version: bigint): bigint {
  const re = new RegExp(`config version 0x${version.toString(16)} in force, led by (\\d+)`);
  const hit = since(at, leader).map((l) => re.exec(l)).find((m) => m !== null);
  if (!hit) throw new Error(`leader ${leader.sid} did not designate a leader for 0x${version.toString(16)}\n${explain()}`);
  return BigInt(hit[1]);
}

function versionOf(config: string): bigint {
  return BigInt(`0x${/version=([0-9a-f]+)$/.exec(config)![1]}`);
}

beforeAll(() =>
  peers.start('designated', 5, 0, (m, msg) => {
    // The leader logs whom it designated as it commits, before its COMMITANDACTIVATE leaves.
    const designation = killDesignated && killWhenDesignatedToLead === undefined ? / in force, led by (\d+)/.exec(msg) : null;
    if (designation && BigInt(designation[1]) !== m.sid) killWhenDesignatedToLead = BigInt(designation[1]);
    // Synchronously, before its run loop takes the role: the designated leader never comes up.
    if (m.sid === killWhenDesignatedToLead && msg.includes('election skipped: LEADING') && !m.closing) m.closing = m.peer!.close();
  }),
);

afterAll(() => peers.stop());

let oldLeader!: Member;
let designated!: Member;

test('removing the leader: no election round anywhere, the designated follower leads the next epoch, the others follow it, nothing committed is lost', async () => {
  await waitUntil('one leader, four followers, a versioned config everywhere', () => {
    oldLeader = members.find((m) => m.peer!.server.role === 'leader')!;
    return members.map((m) => m.peer!.server.role).sort().join() === 'follower,follower,follower,follower,leader' && members.every((m) => m.peer!.verifier.version !== 0n);
  });
  const voters = members.filter((m) => m !== oldLeader);
  const su = await connect(voters, SUPER);
  for (let i = 0; i < 20; i++) await su.create(`/before-${i}`, Buffer.from(String(i)));
  const oldEpoch = (await su.exists('/before-19'))!.czxid >> 32n;
  const rounds = new Map(members.map((m) => [m.sid, m.peer!.election.fle.round]));
  const at = mark();

  const text = (await su.reconfig({ leaving: String(oldLeader.sid) })).data!.toString();
  expect(text).not.toContain(`server.${oldLeader.sid}=`);
  designated = member(designatedBy(oldLeader, at, versionOf(text)));
  expect(voters).toContain(designated);

  await waitUntil('the designated follower leads; the other voters and the old leader follow it', () =>
    designated.peer!.server.role === 'leader' && members.filter((m) => m !== designated).every((m) => m.peer!.server.role === 'follower'),
  );
  const zk = await connect([designated]);
  await zk.create('/after', Buffer.from('a'));
  // The next epoch, led by the designated one.
  expect((await zk.exists('/after'))!.czxid >> 32n).toBe(oldEpoch + 1n);

  // Nobody elected: no round started, the round counters did not move, and every member took its role from the designation.
  expect(members.flatMap((m) => newRounds(since(at, m)).map((l) => `[${m.sid}] ${l}`))).toEqual([]);
  expect(new Map(members.map((m) => [m.sid, m.peer!.election.fle.round]))).toEqual(rounds);
  for (const m of members) {
    const role = m === designated ? 'LEADING' : 'FOLLOWING';
    expect({ sid: m.sid, skipped: since(at, m).some((l) => l.includes(`election skipped: ${role}, designated leader ${designated.sid} `)) }).toEqual({ sid: m.sid, skipped: true });
  }

  // Everything committed before is on every member, the old leader (a non-voting follower now) included.
  for (const m of members) {
    const c = await connect([m]);
    await c.sync('/');
    for (let i = 0; i < 20; i++) expect((await c.getData(`/before-${i}`)).data!.toString()).toBe(String(i));
    expect((await c.getData('/after')).data!.toString()).toBe('a');
    expect((await c.getConfig()).data!.toString()).toBe(text);
  }
});

test('when the designated leader does not come up, the others try it, then fall back to an election among the voters left', async () => {
  const voters = members.filter((m) => m !== oldLeader && m !== designated);
  const su = await connect(voters, SUPER);
  await su.create('/before-dead-designated', Buffer.from('d'));
  const rounds = new Map(members.map((m) => [m.sid, m.peer!.election.fle.round]));
  const at = mark();
  // Whoever the leader designates (known only at the commit) is closed before it leads.
  killDesignated = true;
  const text = (await su.reconfig({ leaving: String(designated.sid) })).data!.toString();
  const dead = member(designatedBy(designated, at, versionOf(text)));
  expect(voters).toContain(dead);
  expect(killWhenDesignatedToLead).toBe(dead.sid);
  await waitUntil('the designated leader closed before leading', () => dead.closing !== undefined);
  await dead.closing;
  expect(newRounds(since(at, dead))).toEqual([]);
  expect(since(at, dead).some((l) => l.includes('election skipped: LEADING'))).toBe(true);

  const left = voters.filter((m) => m !== dead);
  let next!: Member;
  await waitUntil('the two voters left elect one of them; the removed two follow it', () => {
    next = left.find((m) => m.peer!.server.role === 'leader')!;
    return next !== undefined && [oldLeader, designated, ...left.filter((m) => m !== next)].every((m) => m.peer!.server.role === 'follower');
  });
  for (const m of live()) {
    const lines = since(at, m);
    // First straight to the dead designated leader, then, once that role timed out, an election.
    const tried = lines.findIndex((l) => l.includes(`election skipped: FOLLOWING, designated leader ${dead.sid} `));
    const elected = lines.findIndex((l) => l.includes('election: new round'));
    expect({ sid: m.sid, tried: tried >= 0, electedAfter: elected > tried }).toEqual({ sid: m.sid, tried: true, electedAfter: true });
    expect(m.peer!.election.fle.round).toBeGreaterThan(rounds.get(m.sid)!);
  }
  const zk = await connect([next]);
  await zk.create('/after-fallback', null);
  for (const m of live()) {
    const c = await connect([m]);
    await c.sync('/');
    expect((await c.getData('/before-dead-designated')).data!.toString()).toBe('d');
    expect((await c.getData('/before-19')).data!.toString()).toBe('19');
    expect(await c.exists('/after-fallback')).not.toBeNull();
  }
});
