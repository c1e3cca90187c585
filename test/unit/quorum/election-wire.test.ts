/**
 * The election-port codec against bytes captured from a live Apache
 * ZooKeeper 3.8 election (test/fixtures/quorum/apache-3.8-election.json,
 * made by capture-election.ts), plus the legacy notification forms Apache
 * still reads, and every kind of bad input.
 */
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import {
  ElectionStreamDecoder,
  ElectionWireError,
  MAX_ELECTION_FRAME,
  Notification,
  PROTOCOL_VERSION_V1,
  PROTOCOL_VERSION_V2,
  ServerState,
  configVersionOf,
  decodeNotification,
  encodeInitialMessage,
  encodeNotification,
  frameElectionMessage,
  parseInitialMessage,
} from '../../../src/server/quorum/election-wire';
import { MajorityQuorum, QuorumServer } from '../../../src/server/quorum/quorum-verifier';

interface Fixture {
  config: string;
  apacheModes: Record<string, string>;
  ports: { sid: string; election: number; quorum: number; client: number }[];
  captures: Record<string, { description: string; received: string; sent: string }>;
}

const fixture: Fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../fixtures/quorum/apache-3.8-election.json'), 'utf8'),
);
const hex = (k: string) => Buffer.from(fixture.captures[k].received, 'hex');

function fixtureVerifier(): MajorityQuorum {
  const servers: QuorumServer[] = fixture.ports.map((p) => ({
    sid: BigInt(p.sid),
    host: '127.0.0.1',
    quorumPort: p.quorum,
    electionPort: p.election,
    type: p.sid === '4' ? 'observer' : 'participant',
    clientAddress: `127.0.0.1:${p.client}`,
  }));
  return new MajorityQuorum(servers);
}

/** Decodes a whole stream fed in the given chunk sizes. */
function decodeStream(bytes: Buffer, expectInitial: boolean, split: (i: number) => number) {
  const d = new ElectionStreamDecoder({ expectInitialMessage: expectInitial });
  const frames: Buffer[] = [];
  let initial;
  for (let pos = 0; pos < bytes.length; ) {
    const n = Math.max(1, Math.min(split(pos), bytes.length - pos));
    const ev = d.push(bytes.subarray(pos, pos + n));
    frames.push(...ev.frames.map((f) => Buffer.from(f)));
    if (ev.initial) {
      initial = ev.initial;
      frames.push(...d.push(Buffer.alloc(0)).frames.map((f) => Buffer.from(f)));
    }
    pos += n;
  }
  return { initial, frames, pending: d.pending };
}

describe('Apache 3.8 election bytes (captured)', () => {
  const electionPort = (sid: string) => fixture.ports.find((p) => p.sid === sid)!.election;

  test('the initial message is V1 with the sender sid and its election address; ours encodes identically', () => {
    for (const sid of ['2', '3']) {
      const bytes = hex(`from-${sid}-election`);
      const parsed = parseInitialMessage(bytes)!;
      expect(parsed.message.protocolVersion).toBe(PROTOCOL_VERSION_V1);
      expect(parsed.message.sid).toBe(BigInt(sid));
      expect(parsed.message.addresses).toEqual([{ host: '127.0.0.1', port: electionPort(sid) }]);
      const ours = encodeInitialMessage(BigInt(sid), [{ host: '127.0.0.1', port: electionPort(sid) }]);
      expect(ours).toEqual(bytes.subarray(0, parsed.consumed));
    }
  });

  test('LOOKING notifications are v2, carry Apache\'s QuorumMaj text, and re-encode to the same bytes', () => {
    const qv = fixtureVerifier();
    const { frames } = decodeStream(hex('from-2-election'), true, () => 1 << 20);
    expect(frames.length).toBeGreaterThanOrEqual(1);
    for (const f of frames) {
      const n = decodeNotification(f);
      expect(n.state).toBe(ServerState.LOOKING);
      expect(n.version).toBe(2);
      expect(n.electionEpoch).toBe(1n);
      expect(n.zxid).toBe(0n);
      expect(n.config).toBe(qv.toString());
      expect(configVersionOf(n.config!)).toBe(0n);
      expect(encodeNotification(n)).toEqual(f);
    }
    // sid 2 first votes for itself, then moves to the better sid 3.
    expect(decodeNotification(frames[0]).leader).toBe(2n);
    expect(decodeNotification(frames[frames.length - 1]).leader).toBe(3n);
  });

  test('after the election: the leader answers LEADING, the follower FOLLOWING, with peerEpoch updated to 1', () => {
    const leading = decodeStream(hex('from-3-reply'), false, () => 1 << 20).frames.map(decodeNotification);
    const following = decodeStream(hex('from-2-reply'), false, () => 1 << 20).frames.map(decodeNotification);
    expect(fixture.apacheModes).toEqual({ 2: 'follower', 3: 'leader' });
    expect(leading[0]).toMatchObject({ state: ServerState.LEADING, leader: 3n, electionEpoch: 1n, peerEpoch: 1n, zxid: 0n });
    expect(following[0]).toMatchObject({ state: ServerState.FOLLOWING, leader: 3n, electionEpoch: 1n, peerEpoch: 1n });
    const observerReply = decodeStream(hex('to-2-as-observer'), false, () => 1 << 20).frames.map(decodeNotification);
    expect(observerReply[0]).toMatchObject({ state: ServerState.FOLLOWING, leader: 3n });
  });

  test('every capture decodes the same when split at every byte boundary and one byte at a time', () => {
    for (const [name, cap] of Object.entries(fixture.captures)) {
      const bytes = Buffer.from(cap.received, 'hex');
      const expectInitial = name.endsWith('-election');
      const whole = decodeStream(bytes, expectInitial, () => bytes.length);
      expect(whole.pending).toBe(0);
      expect(whole.frames.length).toBeGreaterThan(0);
      const sig = (r: ReturnType<typeof decodeStream>) => `${r.initial?.sid}|${r.frames.map((f) => f.toString('hex')).join(',')}|${r.pending}`;
      const expected = sig(whole);
      const failures: number[] = [];
      for (let cut = 1; cut < bytes.length; cut++) {
        if (sig(decodeStream(bytes, expectInitial, (pos) => (pos === 0 ? cut : bytes.length))) !== expected) failures.push(cut);
      }
      expect(failures).toEqual([]);
      expect(sig(decodeStream(bytes, expectInitial, () => 1))).toBe(expected);
    }
  });
});

describe('notification forms Apache reads', () => {
  const base: Notification = { state: ServerState.FOLLOWING, leader: 3n, zxid: 0x500000007n, electionEpoch: 9n, peerEpoch: 5n, version: 2, config: 'server.1=a:1:2:participant\nversion=0' };

  test('v2 round-trips, with a UTF-8 config', () => {
    const n = { ...base, config: 'server.1=h\u00e9te:1:2:participant\nversion=1f' };
    expect(decodeNotification(encodeNotification(n))).toEqual(n);
    expect(configVersionOf(n.config)).toBe(0x1fn);
  });

  test('28 bytes: pre-ZK-107, peerEpoch taken from the zxid', () => {
    const b = encodeNotification(base).subarray(0, 28);
    expect(decodeNotification(b)).toEqual({ state: 1, leader: 3n, zxid: 0x500000007n, electionEpoch: 9n, peerEpoch: 5n, version: 0 });
  });

  test('40 bytes: no version (even though the last int is there)', () => {
    const b = Buffer.from(encodeNotification({ ...base, version: 1 }).subarray(0, 40));
    expect(decodeNotification(b)).toEqual({ state: 1, leader: 3n, zxid: 0x500000007n, electionEpoch: 9n, peerEpoch: 5n, version: 0 });
  });

  test('version 1 with trailing bytes: no config read', () => {
    const b = encodeNotification({ ...base, version: 1 });
    expect(decodeNotification(b)).toEqual({ state: 1, leader: 3n, zxid: 0x500000007n, electionEpoch: 9n, peerEpoch: 5n, version: 1 });
  });

  test('an unknown state decodes (the election drops it, not the link)', () => {
    expect(decodeNotification(encodeNotification({ ...base, state: 7 })).state).toBe(7);
  });

  test('bad notifications throw ElectionWireError', () => {
    const good = encodeNotification(base);
    expect(() => decodeNotification(good.subarray(0, 27))).toThrow(ElectionWireError);
    expect(() => decodeNotification(good.subarray(0, 33))).toThrow(ElectionWireError);
    expect(() => decodeNotification(good.subarray(0, 38))).toThrow(ElectionWireError);
    expect(() => decodeNotification(good.subarray(0, 42))).toThrow(ElectionWireError);
    expect(() => decodeNotification(good.subarray(0, good.length - 1))).toThrow(/does not fit/);
    const negative = Buffer.from(good);
    negative.writeInt32BE(-5, 40);
    expect(() => decodeNotification(negative)).toThrow(ElectionWireError);
  });
});

describe('initial message', () => {
  test('V2 carries several addresses; wildcard addresses are dropped; IPv6 is bracketed', () => {
    const b = encodeInitialMessage(7n, [{ host: '10.0.0.1', port: 3888 }, { host: '::1', port: 3889 }, { host: '0.0.0.0', port: 1 }], PROTOCOL_VERSION_V2);
    expect(b.subarray(20).toString()).toBe('10.0.0.1:3888|[::1]:3889|0.0.0.0:1');
    const m = parseInitialMessage(b)!;
    expect(m.consumed).toBe(b.length);
    expect(m.message).toEqual({ protocolVersion: PROTOCOL_VERSION_V2, sid: 7n, addresses: [{ host: '10.0.0.1', port: 3888 }, { host: '::1', port: 3889 }] });
  });

  test('a pre-3.5 peer sends a bare sid', () => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(5n);
    expect(parseInitialMessage(b)).toEqual({ message: { protocolVersion: 5n, sid: 5n, addresses: [] }, consumed: 8 });
  });

  test('incomplete input asks for more', () => {
    const b = encodeInitialMessage(1n, [{ host: '127.0.0.1', port: 2 }]);
    for (let i = 0; i < b.length; i++) expect(parseInitialMessage(b.subarray(0, i))).toBeUndefined();
  });

  test('bad versions, lengths and addresses throw ElectionWireError', () => {
    const good = encodeInitialMessage(1n, [{ host: '127.0.0.1', port: 2 }]);
    const withVersion = Buffer.from(good);
    withVersion.writeBigInt64BE(-1n, 0);
    expect(() => parseInitialMessage(withVersion)).toThrow(/unrecognized election protocol version -1/);
    for (const len of [0, -1, 2049]) {
      const b = Buffer.from(good);
      b.writeInt32BE(len, 16);
      expect(() => parseInitialMessage(b)).toThrow(/unreasonable/);
    }
    const mk = (addr: string) => {
      const a = Buffer.from(addr);
      const b = Buffer.alloc(20 + a.length);
      b.writeBigInt64BE(PROTOCOL_VERSION_V1, 0);
      b.writeBigInt64BE(1n, 8);
      b.writeInt32BE(a.length, 16);
      a.copy(b, 20);
      return b;
    };
    for (const bad of ['nohost', 'h:p', 'h:1:2', 'h:99999', '[::1:5', '']) {
      expect(() => parseInitialMessage(mk(bad))).toThrow(ElectionWireError);
    }
    expect(() => encodeInitialMessage(1n, [])).toThrow(RangeError);
    expect(() => encodeInitialMessage(1n, [{ host: 'x'.repeat(2100), port: 1 }])).toThrow(RangeError);
  });
});

describe('ElectionStreamDecoder framing', () => {
  test('frames of length 0, negative or over 512 KiB fail the stream', () => {
    for (const len of [0, -3, MAX_ELECTION_FRAME + 1]) {
      const b = Buffer.alloc(8);
      b.writeInt32BE(len, 0);
      expect(() => new ElectionStreamDecoder({ expectInitialMessage: false }).push(b)).toThrow(ElectionWireError);
    }
  });

  test('a frame of exactly 512 KiB is accepted; several frames in one chunk all come out', () => {
    const big = Buffer.alloc(MAX_ELECTION_FRAME, 7);
    const d = new ElectionStreamDecoder({ expectInitialMessage: false });
    const ev = d.push(Buffer.concat([frameElectionMessage(big), frameElectionMessage(Buffer.from('ab')), Buffer.from([0, 0])]));
    expect(ev.frames.map((f) => f.length)).toEqual([MAX_ELECTION_FRAME, 2]);
    expect(d.pending).toBe(2);
  });

  test('garbage in place of the initial message fails it', () => {
    const d = new ElectionStreamDecoder({ expectInitialMessage: true });
    expect(() => d.push(Buffer.from('\xff\xfe garbage garbage', 'latin1'))).toThrow(ElectionWireError);
    // ASCII text starts with a positive long: Apache (and we) read a pre-3.5 bare sid, which the links then refuse as unknown.
    const http = new ElectionStreamDecoder({ expectInitialMessage: true }).push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(http.initial?.sid).toBe(Buffer.from('GET / HT').readBigInt64BE(0));
  });
});

describe('arbitrary bytes', () => {
  test('the stream decoder and the notification decoder throw only ElectionWireError', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (initial, chunks) => {
      const d = new ElectionStreamDecoder({ expectInitialMessage: initial });
      try {
        for (const c of chunks) {
          for (const f of d.push(Buffer.from(c)).frames) {
            try {
              decodeNotification(f);
            } catch (err) {
              if (!(err instanceof ElectionWireError)) throw err;
            }
          }
        }
      } catch (err) {
        if (!(err instanceof ElectionWireError)) throw err;
      }
    }), { numRuns: 2000 });
  });

  test('any notification round-trips', () => {
    const long = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), long, long, long, long, fc.string(), (state, leader, zxid, electionEpoch, peerEpoch, config) => {
      const n: Notification = { state, leader, zxid, electionEpoch, peerEpoch, version: 2, config };
      expect(decodeNotification(encodeNotification(n))).toEqual(n);
    }), { numRuns: 500 });
  });
});
