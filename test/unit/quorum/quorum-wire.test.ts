/**
 * The quorum-port codec (src/server/quorum/quorum-wire.ts): packet layout,
 * the stream decoder fed at every byte boundary (a SNAP and its raw
 * snapshot in the middle of a stream included), every payload helper, and
 * bad input. The same codec is proved against a live Apache 3.8 leader in
 * apache-learner-wire.test.ts.
 */
import * as fc from 'fast-check';
import { JuteReader, JuteWriter } from '../../../src/jute';
import { CreateTxn, Ids, OpCode, SetDataTxn, StatPersisted, TxnDigest, TxnHeader } from '../../../src/proto';
import { writeSnapSyncStream } from '../../../src/server/persist/snap-sync';
import { SnapshotNodeList } from '../../../src/server/persist/snapshot-file';
import type { SnapshotContents, SnapshotNode, TxnEntry } from '../../../src/server/persist/types';
import {
  ACKEPOCH_ALREADY_ACCEPTED,
  DEFAULT_MAX_AUTHINFO,
  DEFAULT_MAX_QUORUM_BUFFER,
  QuorumPacketData,
  QuorumPacketType,
  QuorumStreamDecoder,
  QuorumStreamEvent,
  QuorumWireError,
  ZAB_PROTOCOL_VERSION,
  decodeAckEpochData,
  decodeCommitAndActivateData,
  decodeInformAndActivateData,
  decodeLeaderInfoData,
  decodeLearnerInfo,
  decodeNewLeaderData,
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
  encodeQuorumPacket,
  encodeRequestData,
  encodeRevalidateReply,
  encodeRevalidateRequest,
  quorumPacket,
} from '../../../src/server/quorum/quorum-wire';

const SESSION = 0x0100018c2a3b0001n;
const EPOCH1 = 1n << 32n;

function record(rec: { serialize(w: JuteWriter): void }): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}

function createTxn(zxid: bigint, path: string, data: string, digest = true): TxnEntry {
  return {
    header: new TxnHeader({ clientId: SESSION, cxid: 7, zxid, time: 1_700_000_000_123n, type: OpCode.create }),
    body: record(new CreateTxn({ path, data: Buffer.from(data), acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: 3 })),
    digest: digest ? new TxnDigest({ version: 2, treeDigest: 0x1234_5678_9abc_def0n }) : null,
  };
}

/** A learner's whole life on one connection, as the leader writes it (minus the snapshot). */
function leaderPackets(): QuorumPacketData[] {
  const p1 = createTxn(EPOCH1 + 1n, '/a', 'hello');
  return [
    quorumPacket(QuorumPacketType.LEADERINFO, EPOCH1, encodeLeaderInfoData()),
    quorumPacket(QuorumPacketType.DIFF, EPOCH1),
    quorumPacket(QuorumPacketType.PROPOSAL, EPOCH1 + 1n, encodeProposalData(p1)),
    quorumPacket(QuorumPacketType.COMMIT, EPOCH1 + 1n),
    quorumPacket(QuorumPacketType.NEWLEADER, EPOCH1, encodeNewLeaderData('server.1=127.0.0.1:2888:3888:participant\nversion=0')),
    quorumPacket(QuorumPacketType.UPTODATE, -1n),
    quorumPacket(QuorumPacketType.PING, EPOCH1 + 1n),
    quorumPacket(QuorumPacketType.REVALIDATE, -1n, encodeRevalidateReply({ sessionId: SESSION, valid: true })),
    quorumPacket(QuorumPacketType.SYNC, 0n),
    quorumPacket(QuorumPacketType.COMMITANDACTIVATE, EPOCH1 + 2n, encodeCommitAndActivateData(3n)),
    quorumPacket(QuorumPacketType.INFORM, EPOCH1 + 3n, encodeProposalData(createTxn(EPOCH1 + 3n, '/b', 'x', false))),
    quorumPacket(QuorumPacketType.TRUNC, EPOCH1),
    // An unknown type passes through: Apache logs it and carries on.
    quorumPacket(99, 5n, Buffer.alloc(0), []),
  ];
}

function learnerPackets(): QuorumPacketData[] {
  return [
    quorumPacket(QuorumPacketType.FOLLOWERINFO, 0n, encodeLearnerInfo({ sid: 1n, configVersion: 0n })),
    quorumPacket(QuorumPacketType.ACKEPOCH, 0n, encodeAckEpochData(0n)),
    quorumPacket(QuorumPacketType.ACK, EPOCH1),
    quorumPacket(QuorumPacketType.PING, EPOCH1 + 1n, encodePingData([{ sessionId: SESSION, timeout: 4000 }])),
    quorumPacket(QuorumPacketType.REQUEST, -1n, encodeRequestData({ sessionId: SESSION, cxid: 3, type: OpCode.sync, body: Buffer.from([0, 0, 0, 1, 0x2f]) }), [
      { scheme: 'ip', id: '127.0.0.1' },
      { scheme: 'digest', id: 'u:hash' },
    ]),
    quorumPacket(QuorumPacketType.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId: SESSION, timeout: 30000 })),
    quorumPacket(QuorumPacketType.OBSERVERINFO, EPOCH1, encodeLearnerInfo({ sid: 4n, configVersion: 0x100000000n })),
  ];
}

const stat = (f: Partial<StatPersisted>) => new StatPersisted(f);

function snapshotContents(extraNodes = 0, dataSize = 3): SnapshotContents & { nodes: SnapshotNode[] } {
  const nodes: SnapshotNode[] = [
    { path: '', data: Buffer.alloc(0), aclRef: -1n, stat: stat({ pzxid: EPOCH1 + 1n, cversion: 1 }) },
    { path: '/a', data: Buffer.from('hello'), aclRef: -1n, stat: stat({ czxid: EPOCH1 + 1n, mzxid: EPOCH1 + 1n, pzxid: EPOCH1 + 1n }) },
    { path: '/zookeeper', data: Buffer.alloc(0), aclRef: -1n, stat: stat({}) },
    { path: '/zookeeper/config', data: Buffer.from('version=0'), aclRef: 1n, stat: stat({ aversion: -1 }) },
    { path: '/zookeeper/quota', data: Buffer.alloc(0), aclRef: -1n, stat: stat({}) },
  ];
  for (let i = 0; i < extraNodes; i++) {
    nodes.push({ path: `/a/n${i}`, data: Buffer.alloc(dataSize, i & 0xff), aclRef: 2n, stat: stat({ czxid: BigInt(i), mzxid: BigInt(i) }) });
  }
  return {
    sessions: new Map([[SESSION, 4000], [SESSION + 1n, 30000]]),
    acls: new Map([
      [1n, Ids.READ_ACL_UNSAFE],
      [2n, [...Ids.CREATOR_ALL_ACL, ...Ids.READ_ACL_UNSAFE]],
    ]),
    nodes,
  };
}

async function snapBytes(c: SnapshotContents): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await writeSnapSyncStream(c, (b) => {
    chunks.push(b);
  });
  return Buffer.concat(chunks);
}

/** Comparable form: bigints and Buffers as strings, records as plain objects. */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, function (this: unknown, _k, x) {
      if (typeof x === 'bigint') return `${x}n`;
      if (x instanceof Map) return [...x.entries()];
      // A lazily decoded node list compares as its nodes.
      if (x instanceof SnapshotNodeList) return [...x];
      // A SNAP body's own bytes compare as one Buffer, however many pieces they arrived in.
      const own = (this as Record<string, unknown>)[_k];
      if (_k === 'rawBody' && Array.isArray(own)) return `hex:${Buffer.concat(own as Buffer[]).toString('hex')}`;
      if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
        return `hex:${Buffer.from((x as { data: number[] }).data).toString('hex')}`;
      }
      return x;
    }),
  );
}

/** Feeds `bytes` in the chunks `cuts` marks and gathers every event. */
function decodeIn(bytes: Buffer, cuts: number[], d = new QuorumStreamDecoder()): { events: QuorumStreamEvent[]; pending: number } {
  const events: QuorumStreamEvent[] = [];
  let prev = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
    events.push(...d.push(bytes.subarray(prev, c)));
    prev = c;
  }
  return { events, pending: d.pending };
}

const asEvents = (ps: QuorumPacketData[]): QuorumStreamEvent[] => ps.map((packet) => ({ kind: 'packet', packet }));

describe('packet layout', () => {
  test('back-to-back jute QuorumPacket, no length prefix; nulls are -1', () => {
    // LEADERINFO as LearnerHandler writes it: type 17, zxid newEpoch<<32, data int 0x10000, authinfo null.
    const leaderInfo = encodeQuorumPacket(quorumPacket(QuorumPacketType.LEADERINFO, EPOCH1, encodeLeaderInfoData()));
    expect(leaderInfo.toString('hex')).toBe('00000011' + '0000000100000000' + '00000004' + '00010000' + 'ffffffff');
    // ACK: zxid only, data and authinfo null.
    expect(encodeQuorumPacket(quorumPacket(QuorumPacketType.ACK, EPOCH1 + 2n)).toString('hex')).toBe('00000003' + '0000000100000002' + 'ffffffff' + 'ffffffff');
    // An empty list and empty data are not null.
    const withAuth = encodeQuorumPacket(quorumPacket(QuorumPacketType.REQUEST, -1n, Buffer.alloc(0), [{ scheme: 'ip', id: 'a' }]));
    expect(withAuth.toString('hex')).toBe('00000001' + 'ffffffffffffffff' + '00000000' + '00000001' + '00000002' + '6970' + '00000001' + '61');
  });

  test('FOLLOWERINFO carries the 20-byte LearnerInfo', () => {
    const p = encodeQuorumPacket(quorumPacket(QuorumPacketType.FOLLOWERINFO, 3n << 32n, encodeLearnerInfo({ sid: 1n, configVersion: 0n })));
    expect(p.readInt32BE(12)).toBe(20);
    expect(p.subarray(16, 36).toString('hex')).toBe('0000000000000001' + '00010000' + '0000000000000000');
  });
});

describe('stream decoder', () => {
  test('decodes every leader and learner packet, whole and one byte at a time', () => {
    for (const ps of [leaderPackets(), learnerPackets()]) {
      const bytes = Buffer.concat(ps.map(encodeQuorumPacket));
      const whole = decodeIn(bytes, []);
      expect(plain(whole.events)).toEqual(plain(asEvents(ps)));
      expect(whole.pending).toBe(0);
      const bytewise = decodeIn(bytes, Array.from({ length: bytes.length }, (_, i) => i));
      expect(plain(bytewise.events)).toEqual(plain(asEvents(ps)));
    }
  });

  test('every packet split at every byte boundary', () => {
    for (const p of [...leaderPackets(), ...learnerPackets()]) {
      const bytes = encodeQuorumPacket(p);
      for (let cut = 1; cut < bytes.length; cut++) {
        const d = new QuorumStreamDecoder();
        expect(d.push(bytes.subarray(0, cut))).toEqual([]);
        expect(d.pending).toBe(cut);
        const events = d.push(bytes.subarray(cut));
        expect(plain(events)).toEqual(plain(asEvents([p])));
        expect(d.pending).toBe(0);
      }
    }
  });

  test('a SNAP in the middle of a stream: packets before, the raw snapshot, packets after, split at every byte', async () => {
    const contents = snapshotContents(3);
    const snap = await snapBytes(contents);
    const before = [quorumPacket(QuorumPacketType.LEADERINFO, EPOCH1, encodeLeaderInfoData()), quorumPacket(QuorumPacketType.SNAP, EPOCH1 + 1n)];
    const after = [
      quorumPacket(QuorumPacketType.PROPOSAL, EPOCH1 + 2n, encodeProposalData(createTxn(EPOCH1 + 2n, '/c', 'late'))),
      quorumPacket(QuorumPacketType.NEWLEADER, EPOCH1, encodeNewLeaderData('version=0')),
      quorumPacket(QuorumPacketType.COMMIT, EPOCH1 + 2n),
      quorumPacket(QuorumPacketType.UPTODATE, -1n),
    ];
    const bytes = Buffer.concat([...before.map(encodeQuorumPacket), snap, ...after.map(encodeQuorumPacket)]);
    const expected = plain([
      ...asEvents(before),
      // The body's bytes come along: the stream minus its 4 + 10 byte signature.
      { kind: 'snapshot', zxid: EPOCH1 + 1n, snapshot: { sessions: contents.sessions, acls: contents.acls, nodes: contents.nodes, rawBody: snap.subarray(0, snap.length - 14) } },
      ...asEvents(after),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new QuorumStreamDecoder();
      const first = d.push(bytes.subarray(0, cut));
      const rest = d.push(bytes.subarray(cut));
      expect(plain([...first, ...rest])).toEqual(expected);
      expect(d.pending).toBe(0);
      expect(d.inSnapshot).toBe(false);
    }
    expect(plain(decodeIn(bytes, Array.from({ length: bytes.length }, (_, i) => i)).events)).toEqual(expected);
  });

  test('a leader-side decoder does not read a snapshot after a (bogus) SNAP from a learner', () => {
    const ps = [quorumPacket(QuorumPacketType.SNAP, 1n), quorumPacket(QuorumPacketType.ACK, 2n)];
    const d = new QuorumStreamDecoder({ snapshotAfterSnap: false });
    expect(plain(d.push(Buffer.concat(ps.map(encodeQuorumPacket))))).toEqual(plain(asEvents(ps)));
  });

  test('a large snapshot in small chunks: one pass, holding only the unfinished item', async () => {
    const contents = snapshotContents(20_000, 200);
    const snap = await snapBytes(contents);
    const bytes = Buffer.concat([encodeQuorumPacket(quorumPacket(QuorumPacketType.SNAP, 9n)), snap, encodeQuorumPacket(quorumPacket(QuorumPacketType.UPTODATE, -1n))]);
    const d = new QuorumStreamDecoder();
    const chunk = 1000;
    let maxHeld = 0;
    const events: QuorumStreamEvent[] = [];
    for (let at = 0; at < bytes.length; at += chunk) {
      events.push(...d.push(bytes.subarray(at, at + chunk)));
      maxHeld = Math.max(maxHeld, d.pending);
    }
    expect(bytes.length).toBeGreaterThan(4_000_000);
    // A node here is < 300 bytes: nothing near the stream's size is ever kept.
    expect(maxHeld).toBeLessThan(chunk + 300);
    expect(events.map((e) => (e.kind === 'packet' ? e.packet.type : 'snapshot'))).toEqual([QuorumPacketType.SNAP, 'snapshot', QuorumPacketType.UPTODATE]);
    const s = events[1] as Extract<QuorumStreamEvent, { kind: 'snapshot' }>;
    expect([...s.snapshot.nodes]).toHaveLength(contents.nodes.length);
    expect([...s.snapshot.nodes][contents.nodes.length - 1].path).toBe('/a/n19999');
  });

  test('a big node in small chunks waits for its declared length instead of re-parsing', async () => {
    const contents = snapshotContents(1, 1_500_000);
    const bytes = Buffer.concat([encodeQuorumPacket(quorumPacket(QuorumPacketType.SNAP, 9n)), await snapBytes(contents)]);
    const d = new QuorumStreamDecoder();
    const events: QuorumStreamEvent[] = [];
    for (let at = 0; at < bytes.length; at += 512) events.push(...d.push(bytes.subarray(at, at + 512)));
    expect(events).toHaveLength(2);
    const s = events[1] as Extract<QuorumStreamEvent, { kind: 'snapshot' }>;
    expect([...s.snapshot.nodes].find((n) => n.path === '/a/n0')?.data?.length).toBe(1_500_000);
  });

  test('property: any packets, any chunking, decode to what was encoded', () => {
    const id = fc.record({ scheme: fc.string({ maxLength: 8 }), id: fc.string({ maxLength: 12 }) });
    const packet = fc.record({
      type: fc.integer({ min: -5, max: 40 }).filter((t) => t !== QuorumPacketType.SNAP),
      zxid: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      data: fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null }),
      authinfo: fc.option(fc.array(id, { maxLength: 3 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 8 }), fc.array(fc.nat(2000), { maxLength: 10 }), (ps, cuts) => {
        const bytes = Buffer.concat(ps.map(encodeQuorumPacket));
        const { events, pending } = decodeIn(bytes, cuts);
        expect(plain(events)).toEqual(plain(asEvents(ps)));
        expect(pending).toBe(0);
      }),
    );
  });

  test('property: a SNAP stream with any chunking yields the same packets and snapshot', async () => {
    const contents = snapshotContents(40, 50);
    const snap = await snapBytes(contents);
    const bytes = Buffer.concat([
      encodeQuorumPacket(quorumPacket(QuorumPacketType.SNAP, 5n)),
      snap,
      encodeQuorumPacket(quorumPacket(QuorumPacketType.NEWLEADER, EPOCH1, encodeNewLeaderData('version=0'))),
    ]);
    const expected = plain(decodeIn(bytes, []).events);
    expect(expected).toHaveLength(3);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 30 }), (cuts) => {
        expect(plain(decodeIn(bytes, cuts).events)).toEqual(expected);
      }),
    );
  });
});

describe('bad input', () => {
  const header = (type: number, dataLen: number) => {
    const b = Buffer.alloc(16);
    b.writeInt32BE(type, 0);
    b.writeBigInt64BE(1n, 4);
    b.writeInt32BE(dataLen, 12);
    return b;
  };

  test('a truncated packet yields nothing and waits', () => {
    const bytes = encodeQuorumPacket(learnerPackets()[4]);
    const d = new QuorumStreamDecoder();
    expect(d.push(bytes.subarray(0, bytes.length - 1))).toEqual([]);
    expect(d.pending).toBe(bytes.length - 1);
  });

  test.each([
    ['data length -2', header(3, -2)],
    ['data length over the bound, before any of it arrives', header(2, DEFAULT_MAX_QUORUM_BUFFER + 1)],
    ['data length 2^31-1', header(2, 0x7fffffff)],
    ['authinfo count -2', Buffer.concat([header(3, 0), Buffer.from('fffffffe', 'hex')])],
    ['authinfo count over the bound', Buffer.concat([header(3, 0), Buffer.from((DEFAULT_MAX_AUTHINFO + 1).toString(16).padStart(8, '0'), 'hex')])],
    ['authinfo string length -5', Buffer.concat([header(3, 0), Buffer.from('00000001fffffffb', 'hex')])],
    ['authinfo string length huge', Buffer.concat([header(3, 0), Buffer.from('000000017ffffff0', 'hex')])],
  ])('%s is a QuorumWireError, and the decoder stays failed', (_name, bytes) => {
    const d = new QuorumStreamDecoder();
    expect(() => d.push(bytes)).toThrow(QuorumWireError);
    expect(() => d.push(Buffer.alloc(0))).toThrow(QuorumWireError);
  });

  test('the bounds are options', () => {
    const p = encodeQuorumPacket(quorumPacket(QuorumPacketType.PROPOSAL, 1n, Buffer.alloc(100), [{ scheme: 'a', id: 'b' }, { scheme: 'c', id: 'd' }]));
    expect(() => new QuorumStreamDecoder({ maxBuffer: 99 }).push(p)).toThrow(/data length 100 outside -1\.\.99/);
    expect(() => new QuorumStreamDecoder({ maxAuthInfo: 1 }).push(p)).toThrow(/authinfo count 2 outside -1\.\.1/);
    expect(new QuorumStreamDecoder({ maxBuffer: 100, maxAuthInfo: 2 }).push(p)).toHaveLength(1);
  });

  describe('a damaged snapshot after SNAP', () => {
    const snapPacket = encodeQuorumPacket(quorumPacket(QuorumPacketType.SNAP, 1n));
    let snap: Buffer;
    beforeAll(async () => {
      snap = await snapBytes(snapshotContents(2));
    });

    const expectError = (bytes: Buffer, pattern: RegExp) => {
      // Whole, and in small chunks: the error must not depend on how bytes arrive.
      expect(() => new QuorumStreamDecoder().push(bytes)).toThrow(QuorumWireError);
      expect(() => new QuorumStreamDecoder().push(bytes)).toThrow(pattern);
      const d = new QuorumStreamDecoder();
      expect(() => {
        for (let at = 0; at < bytes.length; at += 7) d.push(bytes.subarray(at, at + 7));
      }).toThrow(QuorumWireError);
    };

    test('a wrong signature', () => {
      const unsigned = Buffer.concat([snapPacket, snap.subarray(0, snap.length - 14), new JuteWriter().writeString('BenWasHare').toBuffer()]);
      expectError(unsigned, /missing signature/);
    });

    test('a node before its parent', async () => {
      const c = snapshotContents();
      const bytes = await snapBytes(c);
      // Rename "/a" (the second node) to "/q/a": same length, so the stream stays well formed.
      const at = bytes.indexOf(Buffer.from('\u0000\u0000\u0000\u0002/a'));
      const bad = Buffer.from(bytes);
      bad.writeInt32BE(4, at);
      const renamed = Buffer.concat([bad.subarray(0, at + 4), Buffer.from('/q/a'), bad.subarray(at + 6)]);
      expectError(Buffer.concat([snapPacket, renamed]), /no parent/);
    });

    test('a node data length past the bound fails before the data is waited for', () => {
      const w = new JuteWriter();
      w.writeInt(0).writeInt(0).writeString('').writeInt(0x7ffffff0);
      expectError(Buffer.concat([snapPacket, w.toBuffer()]), /node data length/);
    });

    test('a null path, a negative path length', () => {
      expectError(Buffer.concat([snapPacket, new JuteWriter().writeInt(0).writeInt(0).writeInt(-1).toBuffer()]), /null node path/);
      expectError(Buffer.concat([snapPacket, new JuteWriter().writeInt(0).writeInt(0).writeInt(-7).toBuffer()]), /node path length -7/);
    });

    test('an end marker with no root node', () => {
      expectError(Buffer.concat([snapPacket, new JuteWriter().writeInt(0).writeInt(0).writeString('/').toBuffer()]), /no root/);
    });

    test('an ACL entry that never ends is cut off at the item bound', () => {
      const d = new QuorumStreamDecoder({ maxBuffer: 1000 });
      // One ACL entry claiming 2^30 ACLs, then endless zeros.
      const start = new JuteWriter().writeInt(0).writeInt(1).writeLong(1n).writeInt(1 << 30).toBuffer();
      expect(d.push(Buffer.concat([snapPacket, start]))).toHaveLength(1);
      expect(() => {
        for (let i = 0; i < 100; i++) d.push(Buffer.alloc(100));
      }).toThrow(/exceeds/);
    });
  });

  test('property: garbage either decodes or throws QuorumWireError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (raw, cuts) => {
        try {
          decodeIn(Buffer.from(raw), cuts, new QuorumStreamDecoder({ maxBuffer: 256 }));
        } catch (e) {
          expect(e).toBeInstanceOf(QuorumWireError);
        }
      }),
    );
  });
});

describe('payloads', () => {
  test('LearnerInfo: 20 bytes; the 8- and 12-byte forms older learners send still decode', () => {
    const b = encodeLearnerInfo({ sid: 7n, configVersion: 0x100000003n });
    expect(decodeLearnerInfo(b)).toEqual({ sid: 7n, protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: 0x100000003n });
    expect(decodeLearnerInfo(b.subarray(0, 12))).toEqual({ sid: 7n, protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: null });
    expect(decodeLearnerInfo(b.subarray(0, 8))).toEqual({ sid: 7n, protocolVersion: 0, configVersion: null });
    expect(() => decodeLearnerInfo(b.subarray(0, 7))).toThrow(QuorumWireError);
    expect(() => decodeLearnerInfo(null)).toThrow(QuorumWireError);
  });

  test('LEADERINFO and ACKEPOCH ints', () => {
    expect(decodeLeaderInfoData(encodeLeaderInfoData())).toBe(0x10000);
    expect(decodeAckEpochData(encodeAckEpochData(5n))).toBe(5n);
    expect(encodeAckEpochData(ACKEPOCH_ALREADY_ACCEPTED).toString('hex')).toBe('ffffffff');
    expect(decodeAckEpochData(encodeAckEpochData(ACKEPOCH_ALREADY_ACCEPTED))).toBe(-1n);
    // Java's (int) cast of a long epoch.
    expect(decodeAckEpochData(encodeAckEpochData((1n << 32n) + 3n))).toBe(3n);
    expect(() => decodeLeaderInfoData(Buffer.alloc(3))).toThrow(QuorumWireError);
    expect(() => decodeAckEpochData(null)).toThrow(QuorumWireError);
  });

  test('PROPOSAL data is a txn log payload: header, record, optional digest', () => {
    for (const digest of [true, false]) {
      const txn = createTxn(EPOCH1 + 9n, '/p', 'data', digest);
      const back = decodeProposalData(encodeProposalData(txn));
      expect(plain(back)).toEqual(plain(txn));
      expect(back.header.type).toBe(OpCode.create);
      expect(CreateTxn.decode(new JuteReader(back.body)).path).toBe('/p');
    }
    const set: TxnEntry = {
      header: new TxnHeader({ clientId: SESSION, cxid: 1, zxid: 3n, time: 4n, type: OpCode.setData }),
      body: record(new SetDataTxn({ path: '/p', data: Buffer.from('v2'), version: 1 })),
      digest: null,
    };
    expect(plain(decodeProposalData(encodeProposalData(set)))).toEqual(plain(set));
    expect(() => decodeProposalData(Buffer.alloc(31))).toThrow(QuorumWireError);
  });

  test('REQUEST data: session, cxid, type, then the record bytes', () => {
    const body = Buffer.from('00000002', 'hex');
    const b = encodeRequestData({ sessionId: SESSION, cxid: -2, type: OpCode.createSession, body });
    expect(b.toString('hex')).toBe(SESSION.toString(16).padStart(16, '0') + 'fffffffe' + 'fffffff6' + '00000002');
    expect(decodeRequestData(b)).toEqual({ sessionId: SESSION, cxid: -2, type: OpCode.createSession, body });
    expect(decodeRequestData(b.subarray(0, 16)).body).toEqual(Buffer.alloc(0));
    expect(() => decodeRequestData(b.subarray(0, 15))).toThrow(QuorumWireError);
  });

  test('REVALIDATE request and reply', () => {
    expect(decodeRevalidateRequest(encodeRevalidateRequest({ sessionId: SESSION, timeout: 4000 }))).toEqual({ sessionId: SESSION, timeout: 4000 });
    for (const valid of [true, false]) {
      const b = encodeRevalidateReply({ sessionId: SESSION, valid });
      expect(b).toHaveLength(9);
      expect(decodeRevalidateReply(b)).toEqual({ sessionId: SESSION, valid });
    }
    // DataInputStream.readBoolean: any non-zero byte is true.
    expect(decodeRevalidateReply(Buffer.concat([Buffer.alloc(8), Buffer.from([7])])).valid).toBe(true);
    expect(() => decodeRevalidateRequest(Buffer.alloc(11))).toThrow(QuorumWireError);
    expect(() => decodeRevalidateReply(Buffer.alloc(8))).toThrow(QuorumWireError);
  });

  test('PING: (long, int) pairs; an empty list is empty data, not null', () => {
    const touches = [{ sessionId: SESSION, timeout: 4000 }, { sessionId: -1n, timeout: 0 }];
    expect(decodePingData(encodePingData(touches))).toEqual(touches);
    expect(encodePingData([])).toEqual(Buffer.alloc(0));
    expect(decodePingData(null)).toEqual([]);
    expect(() => decodePingData(Buffer.alloc(13))).toThrow(QuorumWireError);
  });

  test('COMMITANDACTIVATE and INFORMANDACTIVATE', () => {
    expect(decodeCommitAndActivateData(encodeCommitAndActivateData(3n))).toBe(3n);
    const txn: TxnEntry = {
      header: new TxnHeader({ clientId: SESSION, cxid: 1, zxid: EPOCH1 + 4n, time: 4n, type: OpCode.reconfig }),
      body: record(new SetDataTxn({ path: '/zookeeper/config', data: Buffer.from('server.1=...\nversion=100000004'), version: -1 })),
      digest: new TxnDigest({ version: 2, treeDigest: 99n }),
    };
    const b = encodeInformAndActivateData({ designatedLeader: 2n, txn });
    expect(b.readBigInt64BE(0)).toBe(2n);
    expect(plain(decodeInformAndActivateData(b))).toEqual(plain({ designatedLeader: 2n, txn }));
    expect(() => decodeCommitAndActivateData(Buffer.alloc(4))).toThrow(QuorumWireError);
    expect(() => decodeInformAndActivateData(Buffer.alloc(20))).toThrow(QuorumWireError);
  });

  test('NEWLEADER config text', () => {
    const text = 'server.1=127.0.0.1:1:2:participant;127.0.0.1:3\nversion=0';
    expect(decodeNewLeaderData(encodeNewLeaderData(text))).toBe(text);
    expect(decodeNewLeaderData(null)).toBeNull();
    expect(decodeNewLeaderData(Buffer.from('x'))).toBeNull();
  });
});
