/**
 * Election links over real loopback TCP: elections between our nodes, the
 * higher-sid-survives rule seen from a raw socket, reconnects, and bad
 * input (garbage, oversized or empty frames, unknown sids, wrong protocol
 * versions, undecodable notifications) closing only the offending link.
 */
import * as net from 'net';
import { freePorts } from '../../harness/ports';
import { waitFor } from '../../harness/four-letter-words';
import {
  ElectionStreamDecoder,
  MAX_ELECTION_FRAME,
  Notification,
  ServerState,
  decodeNotification,
  encodeInitialMessage,
  encodeNotification,
  frameElectionMessage,
} from '../../../src/server/quorum/election-wire';
import { ElectionNode } from '../../../src/server/quorum/election-node';
import { MajorityQuorum, QuorumServer } from '../../../src/server/quorum/quorum-verifier';

jest.setTimeout(60_000);

async function plan(n: number, observers: number[] = []): Promise<MajorityQuorum> {
  const ports = await freePorts(n);
  const servers: QuorumServer[] = ports.map((p, i) => ({
    sid: BigInt(i + 1),
    host: '127.0.0.1',
    quorumPort: 1,
    electionPort: p,
    type: observers.includes(i + 1) ? 'observer' : 'participant',
  }));
  return new MajorityQuorum(servers);
}

const started: ElectionNode[] = [];
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  await Promise.all(started.splice(0).map((n) => n.close()));
});

function node(verifier: MajorityQuorum, sid: bigint, logs: string[] = []): ElectionNode {
  const n = new ElectionNode({
    myId: sid,
    verifier,
    history: () => ({ lastLoggedZxid: 0n, currentEpoch: 0n }),
    logger: (m) => logs.push(m),
    handshakeTimeoutMs: 2000,
  });
  started.push(n);
  return n;
}

/** A raw client on the election port: what it received, and whether the server closed it. */
function rawClient(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  sockets.push(sock);
  const received: Buffer[] = [];
  let closed = false;
  sock.on('data', (d) => received.push(d));
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  return {
    sock,
    connected: new Promise<void>((r) => sock.once('connect', () => r())),
    received: () => Buffer.concat(received),
    closed: () => closed,
  };
}

function looking(verifier: MajorityQuorum, leader: bigint, round = 1n): Notification {
  return { state: ServerState.LOOKING, leader, zxid: 0n, electionEpoch: round, peerEpoch: 0n, version: 2, config: verifier.toString() };
}

test('three nodes over TCP elect the highest sid; the observer observes; all agree', async () => {
  const qv = await plan(4, [4]);
  const nodes = [1n, 2n, 3n, 4n].map((sid) => node(qv, sid));
  await Promise.all(nodes.map((n) => n.start()));
  const decisions = await Promise.all(nodes.map((n) => n.decided()));
  expect(decisions.map((d) => ServerState[d.state])).toEqual(['FOLLOWING', 'FOLLOWING', 'LEADING', 'OBSERVING']);
  expect(new Set(decisions.map((d) => d.vote.leader))).toEqual(new Set([3n]));
  // One link per pair among voters: 3 links to 1 and 2, and 2 to 1.
  expect(nodes[0].links.connectedPeers().sort()).toEqual(expect.arrayContaining([2n, 3n]));
});

test('a node started late joins the established leader; a restarted node finds it again', async () => {
  const qv = await plan(3);
  const [n1, n2] = [node(qv, 1n), node(qv, 2n)];
  await Promise.all([n1.start(), n2.start()]);
  expect((await n1.decided()).vote.leader).toBe(2n);
  expect((await n2.decided()).state).toBe(ServerState.LEADING);
  const n3 = node(qv, 3n);
  await n3.start();
  expect(await n3.decided()).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 2n } });
  // Kill 3's links and start a new 3 on the same port: it joins again.
  await n3.close();
  const n3b = node(qv, 3n);
  await n3b.start();
  expect(await n3b.decided()).toMatchObject({ state: ServerState.FOLLOWING, vote: { leader: 2n } });
});

test('only the link from the higher sid survives', async () => {
  const qv = await plan(3);
  const n2 = node(qv, 2n);
  await n2.start();
  const port = (sid: bigint) => qv.servers.get(sid)!.electionPort;

  // As sid 1 (lower): node 2 closes our connection and connects back to our port.
  const backs: Buffer[] = [];
  const listener = net.createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => backs.push(d));
  });
  servers.push(listener);
  await new Promise<void>((r) => listener.listen(port(1n), '127.0.0.1', r));
  const low = rawClient(port(2n));
  await low.connected;
  low.sock.write(encodeInitialMessage(1n, [{ host: '127.0.0.1', port: port(1n) }]));
  await waitFor('node 2 to close the lower sid\'s connection', async () => low.closed(), 10_000, 20);
  await waitFor('node 2 to connect back', async () => Buffer.concat(backs).length >= 20, 10_000, 20);
  const d = new ElectionStreamDecoder({ expectInitialMessage: true });
  expect(d.push(Buffer.concat(backs)).initial).toMatchObject({ sid: 2n, addresses: [{ host: '127.0.0.1', port: port(2n) }] });

  // As sid 3 (higher): our connection is kept and carries node 2's replies.
  const high = rawClient(port(2n));
  await high.connected;
  high.sock.write(Buffer.concat([
    encodeInitialMessage(3n, [{ host: '127.0.0.1', port: port(3n) }]),
    frameElectionMessage(encodeNotification(looking(qv, 3n))),
  ]));
  await waitFor('node 2 to answer on our link', async () => high.received().length >= 4, 10_000, 20);
  const frames = new ElectionStreamDecoder({ expectInitialMessage: false }).push(high.received()).frames.map(decodeNotification);
  expect(frames.some((n) => n.state === ServerState.LOOKING && n.leader === 3n)).toBe(true);
  expect(high.closed()).toBe(false);
});

describe('bad input closes that link, logs, and the node keeps working', () => {
  const cases: [string, (qv: MajorityQuorum) => Buffer, RegExp][] = [
    ['binary garbage instead of the initial message', () => Buffer.from('\xff\x00garbage\x01\x02', 'latin1'), /bad initial message/],
    ['HTTP instead of the initial message (read as a bare sid, unknown)', () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /unknown sid/],
    ['an unknown protocol version', (qv) => {
      const b = encodeInitialMessage(3n, [{ host: '127.0.0.1', port: qv.servers.get(3n)!.electionPort }]);
      b.writeBigInt64BE(-65534n, 0);
      return b;
    }, /unrecognized election protocol version/],
    ['an address length over 2048', () => {
      const b = Buffer.alloc(20);
      b.writeBigInt64BE(-65536n, 0);
      b.writeBigInt64BE(3n, 8);
      b.writeInt32BE(4096, 16);
      return b;
    }, /unreasonable/],
    ['an unknown sid without an address (the pre-3.5 bare sid)', () => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(42n, 0);
      return b;
    }, /unknown sid 42 without an address/],
    ['our own sid', () => encodeInitialMessage(2n, [{ host: '127.0.0.1', port: 9 }]), /our own sid/],
    ['an oversized frame', (qv) => {
      const len = Buffer.alloc(4);
      len.writeInt32BE(MAX_ELECTION_FRAME + 1);
      return Buffer.concat([encodeInitialMessage(3n, [{ host: '127.0.0.1', port: qv.servers.get(3n)!.electionPort }]), len]);
    }, /bad frame from sid 3/],
    ['an empty frame', (qv) => Buffer.concat([encodeInitialMessage(3n, [{ host: '127.0.0.1', port: qv.servers.get(3n)!.electionPort }]), Buffer.alloc(4)]), /bad frame from sid 3/],
    ['a frame too short for a notification', (qv) => Buffer.concat([
      encodeInitialMessage(3n, [{ host: '127.0.0.1', port: qv.servers.get(3n)!.electionPort }]),
      frameElectionMessage(Buffer.alloc(12, 1)),
    ]), /bad notification from sid 3/],
  ];

  test.each(cases)('%s', async (_name, bytes, logLine) => {
    const qv = await plan(3);
    const logs: string[] = [];
    const n2 = node(qv, 2n, logs);
    await n2.start();
    const port2 = qv.servers.get(2n)!.electionPort;
    const bad = rawClient(port2);
    await bad.connected;
    bad.sock.write(bytes(qv));
    await waitFor('the bad link to be closed', async () => bad.closed(), 10_000, 20);
    expect(logs.some((l) => logLine.test(l))).toBe(true);
    // Still serving: a well-behaved sid 3 gets answers.
    const good = rawClient(port2);
    await good.connected;
    good.sock.write(Buffer.concat([
      encodeInitialMessage(3n, [{ host: '127.0.0.1', port: qv.servers.get(3n)!.electionPort }]),
      frameElectionMessage(encodeNotification(looking(qv, 3n))),
    ]));
    await waitFor('node 2 to answer the good peer', async () => good.received().length >= 48, 10_000, 20);
    expect(good.closed()).toBe(false);
  });

  test('a sid the config does not list (a server joining by reconfig) is kept and answered, as Apache does', async () => {
    const qv = await plan(3);
    const logs: string[] = [];
    await node(qv, 2n, logs).start();
    const joiner = rawClient(qv.servers.get(2n)!.electionPort);
    await joiner.connected;
    joiner.sock.write(Buffer.concat([
      encodeInitialMessage(42n, [{ host: '127.0.0.1', port: 9 }]),
      frameElectionMessage(encodeNotification(looking(qv, 42n))),
    ]));
    await waitFor('node 2 to answer sid 42', async () => joiner.received().length >= 48, 10_000, 20);
    expect(joiner.closed()).toBe(false);
    expect(logs.some((l) => /sid 42, not in our config, at 127\.0\.0\.1:9/.test(l))).toBe(true);
  });

  test('a connection that never sends its initial message is closed after the handshake timeout', async () => {
    const qv = await plan(3);
    const logs: string[] = [];
    await node(qv, 2n, logs).start();
    const idle = rawClient(qv.servers.get(2n)!.electionPort);
    await idle.connected;
    await waitFor('the idle connection to be closed', async () => idle.closed(), 15_000, 50);
    expect(logs.some((l) => /no initial message/.test(l))).toBe(true);
  });
});
