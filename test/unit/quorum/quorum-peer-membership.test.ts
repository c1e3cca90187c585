/**
 * A server a reconfig removes, as Apache 3.8's QuorumPeer handles it
 * (processReconfig / updateLearnerType: "Becoming a non-voting
 * participant"): it keeps going as a non-voting follower of the leader (the
 * one the reconfig designated, without an election). It elects again whenever
 * its role ends otherwise, votes for nobody and is counted in no quorum,
 * follows whoever the voters established, serves its clients, and a later
 * reconfig can add it back.
 *
 * Five QuorumPeers in this process on loopback (voters 1..4, observer 5,
 * reconfigEnabled, super digest): the leader and the observer are removed
 * by one reconfig (the leader hands over; the observer's INFORMANDACTIVATE
 * ends its role and it follows the designated leader), then the new leader
 * is closed (the two remaining voters elect; the removed ones follow the
 * next leader), then the old leader is added back as a voter.
 *
 * And what Apache's QuorumPeer.start does with a myid the config in force
 * does not list (a joiner restarted before a reconfig added it, or a
 * removed server restarted): it refuses to start.
 */
import * as fs from 'fs';
import { QuorumPeer } from '../../../src/server/quorum/quorum-peer';
import { MajorityQuorum, type QuorumServer } from '../../../src/server/quorum/quorum-verifier';
import { fourLetterWord } from '../../harness/four-letter-words';
import { InProcessPeers, SUPER, type PeerMember as Member } from './in-process-peers';

jest.setTimeout(90_000);

const peers = new InProcessPeers();
const members = peers.members;
const servers = peers.servers;

const member = (sid: bigint) => peers.member(sid);
const line = (s: QuorumServer, type = s.type) => `server.${s.sid}=${s.host}:${s.quorumPort}:${s.electionPort}:${type};127.0.0.1:${member(s.sid).clientPort}`;
const connect = (ms: Member[], authInfo?: typeof SUPER) => peers.connect(ms, authInfo);
const waitUntil = (what: string, probe: () => boolean | Promise<boolean>) => peers.waitUntil(what, probe);

beforeAll(() => peers.start('removed', 4, 1));

afterAll(() => peers.stop());

test('removed by a reconfig, the leader and an observer go on as non-voting followers that serve, follow the next leader, and can be added back', async () => {
  // Formed, with the first leader's versioned config (ZOOKEEPER-1783) in force everywhere.
  let leader!: Member;
  await waitUntil('one leader, three followers, one observer, a versioned config everywhere', () => {
    const roles = members.map((m) => m.peer!.server.role).sort();
    leader = members.find((m) => m.peer!.server.role === 'leader')!;
    return roles.join() === 'follower,follower,follower,leader,observer' && members.every((m) => m.peer!.verifier.version !== 0n);
  });
  const observer = member(5n);
  const voters = members.filter((m) => m !== leader && m !== observer);
  const su = await connect(voters, SUPER);
  await su.create('/before', Buffer.from('b'));

  const removed = (await su.reconfig({ leaving: `${leader.sid},5` })).data!.toString();
  expect(removed).not.toContain(`server.${leader.sid}=`);
  expect(removed).not.toContain('server.5=');
  const version = BigInt(`0x${/version=([0-9a-f]+)$/.exec(removed)![1]}`);
  await waitUntil('the removal in force on all five', () => members.every((m) => m.peer!.verifier.version === version));

  // The leader handed over; the removed two follow the new leader, as non-voters (peerType 0).
  let next!: Member;
  await waitUntil('a new leader among the voters left; the removed leader and observer follow it', () => {
    next = voters.find((m) => m.peer!.server.role === 'leader')!;
    return next !== undefined && [leader, observer, ...voters.filter((m) => m !== next)].every((m) => m.peer!.server.role === 'follower');
  });
  for (const m of [leader, observer]) {
    expect({ sid: m.sid, voter: m.peer!.verifier.isVoter(m.sid), listed: m.peer!.verifier.servers.has(m.sid) }).toEqual({ sid: m.sid, voter: false, listed: false });
    expect(await fourLetterWord('127.0.0.1', m.clientPort, 'conf')).toMatch(/^peerType=0$/m);
    // They serve their clients: reads of what came before, and writes that reach the voters.
    const zk = await connect([m]);
    expect((await zk.getData('/before')).data!.toString()).toBe('b');
    await zk.create(`/through-removed-${m.sid}`, Buffer.from(String(m.sid)));
    await su.sync('/');
    expect((await su.getData(`/through-removed-${m.sid}`)).data!.toString()).toBe(String(m.sid));
  }

  // The new leader goes: the two voters left are a quorum of three; the removed two, uncounted, follow whoever they elect.
  await next.peer!.close();
  const rest = voters.filter((m) => m !== next);
  let third!: Member;
  await waitUntil('the two voters left elect; the removed leader and observer follow the new leader', () => {
    third = rest.find((m) => m.peer!.server.role === 'leader')!;
    return third !== undefined && [leader, observer, ...rest.filter((m) => m !== third)].every((m) => m.peer!.server.role === 'follower');
  });
  const onRemoved = await connect([observer]);
  await onRemoved.create('/after-failover', null);
  expect(await (await connect([third])).exists('/after-failover')).not.toBeNull();

  // Added back as a voter, the old leader follows and counts again.
  const su2 = await connect(rest, SUPER);
  const back = (await su2.reconfig({ joining: line(servers[Number(leader.sid) - 1]) })).data!.toString();
  expect(back).toContain(line(servers[Number(leader.sid) - 1]));
  await waitUntil('the old leader is a voter again and follows', () => leader.peer!.verifier.isVoter(leader.sid) && leader.peer!.server.role === 'follower');
});

test('a server the config in force does not list (a joiner or a removed server, restarted) does not start, as Apache\'s QuorumPeer.start', async () => {
  const dataDir = peers.pathIn('unlisted');
  await expect(
    QuorumPeer.start({ myId: 9n, verifier: new MajorityQuorum(servers, 0x100000000n), initLimit: 10, syncLimit: 5, reconfigEnabled: true, server: { dataDir, clientPort: 0 } }),
  ).rejects.toThrow(/^My id 9 not in the peer list$/);
  expect(fs.existsSync(dataDir)).toBe(false);
});
