/**
 * ElectionLinks over an injected in-memory transport: the bounded send
 * queue (newest wins, as Apache's 1-slot queue), the re-send of the last
 * message on a new link, and reconnect back-off against a refusing peer.
 */
import { waitFor } from '../../harness/four-letter-words';
import {
  ElectionStreamDecoder,
  Notification,
  ServerState,
  decodeNotification,
  encodeInitialMessage,
} from '../../../src/server/quorum/election-wire';
import { ElectionLinks } from '../../../src/server/quorum/election-links';
import { MajorityQuorum, QuorumServer } from '../../../src/server/quorum/quorum-verifier';
import { MemNetwork, MemSocket } from './in-memory-transport';

const servers: QuorumServer[] = [1, 2, 3].map((i) => ({ sid: BigInt(i), host: 'mem', quorumPort: 100 + i, electionPort: 200 + i, type: 'participant' }));
const qv = new MajorityQuorum(servers);
const addr = (sid: number) => ({ host: 'mem', port: 200 + sid });
const note = (round: bigint): Notification => ({ state: ServerState.LOOKING, leader: 2n, zxid: 0n, electionEpoch: round, peerEpoch: 0n, version: 2, config: qv.toString() });

const open: ElectionLinks[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

function links(net: MemNetwork, myId: bigint, got: [bigint, Notification][] = [], extra = {}): ElectionLinks {
  const l = new ElectionLinks({ myId, verifier: qv, transport: net, onNotification: (f, n) => got.push([f, n]), reconnectMinMs: 10, reconnectMaxMs: 80, ...extra });
  open.push(l);
  return l;
}

function decodeOutbound(bytes: Buffer) {
  const d = new ElectionStreamDecoder({ expectInitialMessage: true });
  const initial = d.push(bytes).initial;
  return { initial, notes: d.push(Buffer.alloc(0)).frames.map(decodeNotification) };
}

test('while a peer is unreachable only the newest message is kept; it goes out once the peer listens', async () => {
  const net = new MemNetwork();
  const l2 = links(net, 2n);
  await l2.start();
  l2.send(1n, note(1n));
  l2.send(1n, note(2n));
  l2.send(1n, note(3n));
  await waitFor('a refused attempt or two', async () => net.attempts.length >= 2, 5000, 5);
  const raw = net.rawListener(addr(1));
  await waitFor('the reconnect', async () => raw.sockets.length > 0 && decodeOutbound(raw.bytes(0)).notes.length > 0, 5000, 5);
  const { initial, notes } = decodeOutbound(raw.bytes(0));
  // Strings, not bigints, in what a failure prints: jest's workers cannot pass a bigint back.
  expect(String(initial?.sid)).toBe('2');
  expect(initial?.addresses).toEqual([addr(2)]);
  // Only the newest message went out (a new link may send it twice, as Apache does: see the next test).
  expect([...new Set(notes.map((n) => String(n.electionEpoch)))]).toEqual(['3']);
});

test('a new link re-sends the last message when nothing is queued (expect duplicates, as Apache)', async () => {
  const net = new MemNetwork();
  const raw = net.rawListener(addr(1));
  const l2 = links(net, 2n);
  await l2.start();
  l2.send(1n, note(7n));
  await waitFor('the first link', async () => raw.sockets.length === 1 && decodeOutbound(raw.bytes(0)).notes.length === 1, 5000, 5);
  raw.sockets[0].destroy();
  await waitFor('the link to drop', async () => l2.connectedPeers().length === 0, 5000, 5);
  l2.connectAll();
  await waitFor('the second link', async () => raw.sockets.length === 2 && decodeOutbound(raw.bytes(1)).notes.length === 1, 5000, 5);
  expect(String(decodeOutbound(raw.bytes(1)).notes[0].electionEpoch)).toBe('7');
});

test('connecting to a refusing peer backs off instead of spinning', async () => {
  const net = new MemNetwork();
  const l2 = links(net, 2n);
  await l2.start();
  l2.send(1n, note(1n));
  await new Promise((r) => setTimeout(r, 600));
  // With 10 ms doubling to 80 ms, 600 ms allow about a dozen attempts; without back-off there would be thousands.
  expect(net.attempts.length).toBeGreaterThanOrEqual(3);
  expect(net.attempts.length).toBeLessThan(40);
});

test('a lower sid connecting in is closed and called back; frames after its initial message are not read', async () => {
  const net = new MemNetwork();
  const got: [bigint, Notification][] = [];
  const l2 = links(net, 2n, got);
  await l2.start();
  const raw = net.rawListener(addr(1));
  const sock = net.connect(addr(2));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeInitialMessage(1n, [addr(1)]));
  await waitFor('node 2 to close the lower sid\'s connection', async () => (sock as MemSocket).closed, 5000, 5);
  await waitFor('node 2 to connect back to 1', async () => raw.sockets.length === 1, 5000, 5);
  expect(String(decodeOutbound(raw.bytes(0)).initial?.sid)).toBe('2');
  expect(got).toEqual([]);
});
