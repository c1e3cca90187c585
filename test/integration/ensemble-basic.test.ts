/**
 * Three of our servers as an ensemble, in this process, on loopback: one is
 * elected leader, the others follow; writes through any member are
 * replicated and readable everywhere; when the leader goes, the others
 * elect a new one and nothing acknowledged is lost.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CreateMode, ErrorCode, ZooKeeper } from '../../src';
import { QuorumPeer } from '../../src/server/quorum/quorum-peer';
import { MajorityQuorum, type QuorumServer } from '../../src/server/quorum/quorum-verifier';
import { freePorts } from '../harness/ports';
import { fourLetterWord, waitFor } from '../harness/four-letter-words';
import { connectFrame } from '../fuzz/raw-wire';

jest.setTimeout(90_000);

interface Member {
  sid: bigint;
  clientPort: number;
  dataDir: string;
  peer?: QuorumPeer;
}

const logs: string[] = [];
let root: string;
let members: Member[] = [];
let verifier: MajorityQuorum;
const clients: ZooKeeper[] = [];

async function startMember(m: Member, tickTime = 200): Promise<void> {
  m.peer = await QuorumPeer.start({
    myId: m.sid,
    verifier,
    initLimit: 10,
    syncLimit: 5,
    server: { dataDir: m.dataDir, clientPort: m.clientPort, tickTime, forceSync: false, fourLetterWordWhitelist: '*' },
    logger: (msg) => logs.push(`${Date.now() % 100000} ${msg}`),
  });
}

async function connect(m: Member): Promise<ZooKeeper> {
  const zk = new ZooKeeper(`127.0.0.1:${m.clientPort}`, { sessionTimeout: 6000 });
  zk.on('error', () => undefined);
  clients.push(zk);
  await zk.connected();
  return zk;
}

function explain(): string {
  return logs.slice(-60).join('\n');
}

/** `voters` participants and `observers` observers, all on loopback with fresh data dirs. */
async function plan(voters: number, observers = 0): Promise<void> {
  const n = voters + observers;
  const ports = await freePorts(3 * n);
  const servers: QuorumServer[] = [];
  members = [];
  for (let i = 0; i < n; i++) {
    const sid = BigInt(i + 1);
    const type = i < voters ? 'participant' : 'observer';
    servers.push({ sid, host: '127.0.0.1', quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2], type });
    members.push({ sid, clientPort: ports[3 * i], dataDir: path.join(root, `s${sid}`) });
  }
  verifier = new MajorityQuorum(servers);
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ensemble-'));
  await plan(3);
  logs.length = 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const m of members) await m.peer?.close().catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
});

async function serving(): Promise<{ leader: Member; followers: Member[] }> {
  let leader: Member | undefined;
  await waitFor(
    'one leader and two followers serving',
    async () => {
      const states = members.map((m) => m.peer?.server.role);
      const l = members.filter((m) => m.peer?.server.role === 'leader');
      const f = members.filter((m) => m.peer?.server.role === 'follower' || m.peer?.server.role === 'observer');
      leader = l[0];
      return l.length === 1 && f.length + l.length === members.filter((m) => m.peer).length ? states : undefined;
    },
    30_000,
    50,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${explain()}`);
  });
  return { leader: leader!, followers: members.filter((m) => m !== leader && m.peer) };
}

test('elects a leader; writes through a follower are replicated to every member', async () => {
  await Promise.all(members.map((m) => startMember(m)));
  const { leader, followers } = await serving();
  const a = await connect(followers[0]);
  await a.create('/e', Buffer.from('one'));
  await a.setData('/e', Buffer.from('two'));
  const seq = await a.create('/e/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  expect(seq).toBe('/e/s-0000000000');
  for (const m of [leader, followers[1]]) {
    const b = await connect(m);
    await b.sync('/e');
    expect((await b.getData('/e')).data?.toString()).toBe('two');
    expect(await b.getChildren('/e')).toEqual(['s-0000000000']);
  }
});

test('when the leader goes, the others elect a new one and keep every acknowledged write', async () => {
  await Promise.all(members.map((m) => startMember(m)));
  const first = await serving();
  const a = await connect(first.followers[0]);
  for (let i = 0; i < 20; i++) await a.create(`/k${i}`, Buffer.from(String(i)));
  await first.leader.peer!.close();
  first.leader.peer = undefined;
  const second = await serving();
  expect(second.leader).not.toBe(first.leader);
  const b = await connect(second.followers[0] ?? second.leader);
  await b.sync('/');
  for (let i = 0; i < 20; i++) expect((await b.getData(`/k${i}`)).data?.toString()).toBe(String(i));
  await b.create('/after', null);
  // The old leader comes back as a follower and catches up.
  await startMember(first.leader);
  await serving();
  const c = await connect(first.leader);
  await c.sync('/');
  expect(await c.exists('/after')).not.toBeNull();
  expect(await c.exists('/k19')).not.toBeNull();
});

test('an observer serves reads, forwards writes, gets every commit, and does not count toward the quorum', async () => {
  await plan(3, 1);
  await Promise.all(members.map((m) => startMember(m)));
  await serving();
  const observer = members[3];
  expect(observer.peer!.server.role).toBe('observer');
  // The leader's mntr counts its learners as Apache's does; conf shows each member's quorum block.
  const leaderMember = members.find((m) => m.peer!.server.role === 'leader')!;
  const mntr = await fourLetterWord('127.0.0.1', leaderMember.clientPort, 'mntr');
  expect(mntr).toMatch(/^zk_server_state\tleader$/m);
  expect(mntr).toMatch(/^zk_learners\t3$/m);
  expect(mntr).toMatch(/^zk_synced_followers\t2$/m);
  expect(mntr).toMatch(/^zk_synced_observers\t1$/m);
  expect(await fourLetterWord('127.0.0.1', observer.clientPort, 'srvr')).toMatch(/^Mode: observer$/m);
  const conf = await fourLetterWord('127.0.0.1', observer.clientPort, 'conf');
  expect(conf).toMatch(/^serverId=4$/m);
  expect(conf).toMatch(/^peerType=1$/m);
  expect(conf).toContain(verifier.toString().split('\n')[0]);
  const viaObserver = await connect(observer);
  await viaObserver.create('/o', Buffer.from('from-observer'));
  const viaVoter = await connect(members[0]);
  await viaVoter.create('/v', Buffer.from('from-voter'));
  await viaObserver.sync('/');
  expect((await viaObserver.getData('/v')).data?.toString()).toBe('from-voter');
  await viaVoter.sync('/');
  expect((await viaVoter.getData('/o')).data?.toString()).toBe('from-observer');
  // Two voters down: the observer does not make a quorum with the last one, so nobody serves.
  const a = members.find((m) => m.peer!.server.role === 'follower')!;
  const b = members.find((m) => m.peer!.server.role === 'leader')!;
  await a.peer!.close();
  a.peer = undefined;
  await b.peer!.close();
  b.peer = undefined;
  await waitFor('no member serving without a voter quorum', async () => members.every((m) => !m.peer || m.peer.server.role === 'looking'), 20_000, 50);
  // One voter back: a quorum again, and the observer follows the new leader with everything.
  await startMember(a);
  await serving();
  const again = await connect(observer);
  await again.sync('/');
  expect((await again.getData('/o')).data?.toString()).toBe('from-observer');
  expect((await again.getData('/v')).data?.toString()).toBe('from-voter');
});

test('a session used through a server it moved away from fails SESSIONMOVED; where it moved to, it works', async () => {
  await Promise.all(members.map((m) => startMember(m)));
  const { leader, followers } = await serving();
  for (const [from, to] of [
    [followers[0], followers[1]],
    [followers[1], leader],
    [leader, followers[0]],
  ]) {
    const a = await connect(from);
    await a.create(`/moved-${from.sid}-${to.sid}`, null);
    // The same session re-attaches on another member: the leader records it there.
    const b = new ZooKeeper(`127.0.0.1:${to.clientPort}`, { sessionId: a.sessionId, sessionPassword: a.sessionPassword, sessionTimeout: 6000 });
    b.on('error', () => undefined);
    clients.push(b);
    await b.connected();
    expect(b.sessionId).toBe(a.sessionId);
    await expect(a.create(`/moved-${from.sid}-${to.sid}/x`, null)).rejects.toMatchObject({ code: ErrorCode.SESSIONMOVED });
    await b.create(`/moved-${from.sid}-${to.sid}/y`, null);
    expect(await b.getChildren(`/moved-${from.sid}-${to.sid}`)).toEqual(['y']);
  }
});

test('a handshake that reaches a member during an election is held and answered once the member serves, not dropped', async () => {
  // Tick 1 s: the hold lasts up to 2 s, time enough for the other two to start and the election to end.
  await startMember(members[0], 1000);
  const s = net.connect({ host: '127.0.0.1', port: members[0].clientPort });
  const events: string[] = [];
  let reply = Buffer.alloc(0);
  s.on('data', (b: Buffer) => {
    reply = Buffer.concat([reply, b]);
    events.push('data');
  });
  s.on('close', () => events.push('close'));
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.write(connectFrame(6000));
  await new Promise((r) => setTimeout(r, 100));
  expect(events).toEqual([]); // held: neither answered nor closed while member 1 has no quorum
  await Promise.all(members.slice(1).map((m) => startMember(m, 1000)));
  await waitFor('the held handshake to be answered', async () => reply.length >= 4 + 36 || events.includes('close'), 10_000, 10);
  expect(events[0]).toBe('data');
  // ConnectResponse: int len, int protocolVersion, int timeOut, long sessionId (non-zero: a session was made).
  expect(reply.readInt32BE(8)).toBeGreaterThan(0);
  expect(reply.readBigInt64BE(12)).not.toBe(0n);
  s.destroy();
});

test('a member without a leader commits nothing: sessions from its snapshot do not expire into txns of its own', async () => {
  await Promise.all(members.map((m) => startMember(m)));
  await serving();
  const a = await connect(members[0]);
  await a.create('/before-alone', null);
  const sessionId = a.sessionId;
  for (const m of members) {
    await m.peer!.close();
    m.peer = undefined;
  }
  // Alone, member 1 stays LOOKING; its tree has the session, whose timeout (6 s asked, 4 s granted at tick 200) passes.
  await startMember(members[0]);
  const server = members[0].peer!.server;
  const zxid = server.tree.lastProcessedZxid;
  expect(server.sessions.sessions.has(sessionId)).toBe(true);
  await new Promise((r) => setTimeout(r, 5000));
  server.expireSessions(Date.now() + 60_000); // and even when asked outright
  await new Promise((r) => setTimeout(r, 100));
  expect(server.role).toBe('looking');
  expect(server.tree.lastProcessedZxid).toBe(zxid);
  expect(server.pipeline.highestZxid).toBe(zxid);
  expect(server.sessions.sessions.has(sessionId)).toBe(true);
}, 30_000);
