/**
 * fast-check generators for the server fuzz test: well-formed request
 * streams (what a real client would send after its handshake) and the ways
 * to break them — bit flips, overwritten and inserted bytes, truncation,
 * lying length prefixes, unknown opcodes, odd xids and garbage paths.
 *
 * A stream is kept as a list of frames until the last moment, so that
 * mutations can aim at a frame's length prefix, opcode or xid as well as at
 * arbitrary byte offsets of the serialized bytes.
 */
import fc from 'fast-check';
import { JuteWriter } from '../../src/jute';
import type { Record } from '../../src/jute';
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  CreateRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  Id,
  Ids,
  MultiHeader,
  OpCode,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SyncRequest,
} from '../../src/proto';
import { connectFrame } from './raw-wire';

export const MAX_BUFFER = 0xfffff;

/** One request frame before serialization. */
export interface Frame {
  xid: number;
  type: number;
  body: Buffer;
  /** When set, the 4-byte length prefix says this instead of the real length. */
  declaredLength?: number;
}

function encode(rec: Record): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}

/** Serializes frames to the bytes on the wire. */
export function serialize(frames: Frame[]): Buffer {
  return Buffer.concat(
    frames.map((f) => {
      const head = Buffer.alloc(12);
      head.writeInt32BE((f.declaredLength ?? 8 + f.body.length) | 0, 0);
      head.writeInt32BE(f.xid | 0, 4);
      head.writeInt32BE(f.type | 0, 8);
      return Buffer.concat([head, f.body]);
    }),
  );
}

// Paths the fuzz clients work on; the sentinel client's node is never among them.
const sanePath = fc.constantFrom('/fz', '/fz/a', '/fz/a/b', '/fz/seq-', '/', '/zookeeper', '/zookeeper/config', '/fz/e');
const garbagePath = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', 'abc', '//', '/fz/', '/fz//a', '/fz/./a', '/fz/../a', '/fz/\u0000a', '/fz/\ud800', '/zookeeper/quota/../..'),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `/${'x'.repeat(n)}`),
);
const path = fc.oneof({ weight: 3, arbitrary: sanePath }, { weight: 1, arbitrary: garbagePath });
const data = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)));
const version = fc.oneof(fc.constant(-1), fc.integer({ min: -3, max: 3 }), fc.integer());
const acl = fc.oneof(
  fc.constant(Ids.OPEN_ACL_UNSAFE),
  fc.constant([] as ACL[]),
  fc.array(
    fc.record({ perms: fc.integer({ min: -1, max: 64 }), scheme: fc.constantFrom('world', 'digest', 'ip', 'auth', 'sasl', 'x509', 'bogus', ''), id: fc.string({ maxLength: 30 }) }),
    { maxLength: 3 },
  ).map((xs) => xs.map((x) => new ACL({ perms: x.perms, id: new Id({ scheme: x.scheme, id: x.id }) }))),
);
const createFlags = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer());

/** A well-formed request of some kind (type + body), as a real client could send it. */
const request: fc.Arbitrary<{ type: number; body: Buffer }> = fc.oneof(
  fc.tuple(path, fc.boolean()).map(([p, w]) => ({ type: OpCode.getData, body: encode(new GetDataRequest({ path: p, watch: w })) })),
  fc.tuple(path, fc.boolean()).map(([p, w]) => ({ type: OpCode.exists, body: encode(new ExistsRequest({ path: p, watch: w })) })),
  fc.tuple(path, fc.boolean()).map(([p, w]) => ({ type: OpCode.getChildren, body: encode(new GetChildrenRequest({ path: p, watch: w })) })),
  fc.tuple(path, fc.boolean()).map(([p, w]) => ({ type: OpCode.getChildren2, body: encode(new GetChildren2Request({ path: p, watch: w })) })),
  fc.tuple(path, data, acl, createFlags, fc.constantFrom(OpCode.create, OpCode.create2, OpCode.createContainer)).map(([p, d, a, f, t]) => ({
    type: t,
    body: encode(new CreateRequest({ path: p, data: d, acl: a, flags: f })),
  })),
  fc.tuple(path, data, version).map(([p, d, v]) => ({ type: OpCode.setData, body: encode(new SetDataRequest({ path: p, data: d, version: v })) })),
  fc.tuple(path, version).map(([p, v]) => ({ type: OpCode.delete, body: encode(new DeleteRequest({ path: p, version: v })) })),
  fc.tuple(path, version).map(([p, v]) => ({ type: OpCode.check, body: encode(new CheckVersionRequest({ path: p, version: v })) })),
  path.map((p) => ({ type: OpCode.sync, body: encode(new SyncRequest({ path: p })) })),
  path.map((p) => ({ type: OpCode.getACL, body: encode(new GetACLRequest({ path: p })) })),
  fc.tuple(path, acl, version).map(([p, a, v]) => ({ type: OpCode.setACL, body: encode(new SetACLRequest({ path: p, acl: a, version: v })) })),
  fc.tuple(path, fc.integer({ min: -1, max: 3 })).map(([p, m]) => ({ type: OpCode.addWatch, body: encode(new AddWatchRequest({ path: p, mode: m })) })),
  fc.tuple(path, fc.integer({ min: -1, max: 6 }), fc.constantFrom(OpCode.checkWatches, OpCode.removeWatches)).map(([p, t, op]) => ({
    type: op,
    body: encode(new CheckWatchesRequest({ path: p, type: t })),
  })),
  fc.tuple(fc.bigInt({ min: -1n, max: 1n << 40n }), fc.array(path, { maxLength: 3 })).map(([z, ps]) => ({
    type: OpCode.setWatches,
    body: encode(new SetWatches({ relativeZxid: z, dataWatches: ps, existWatches: ps, childWatches: ps })),
  })),
  fc.tuple(fc.constantFrom('digest', 'ip', 'world', 'super', 'bogus'), fc.uint8Array({ maxLength: 40 })).map(([s, a]) => ({
    type: OpCode.auth,
    body: encode(new AuthPacket({ type: 0, scheme: s, auth: Buffer.from(a) })),
  })),
  fc.constantFrom<number>(OpCode.ping, OpCode.whoAmI).map((t) => ({ type: t, body: Buffer.alloc(0) })),
  fc.array(fc.tuple(path, data), { minLength: 1, maxLength: 4 }).map((ops) => {
    const w = new JuteWriter();
    for (const [p, d] of ops) {
      new MultiHeader({ type: OpCode.create, done: false, err: -1 }).serialize(w);
      new CreateRequest({ path: p, data: d, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }).serialize(w);
    }
    new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
    return { type: OpCode.multi, body: w.toBuffer() };
  }),
);

/** 1-6 well-formed request frames with increasing xids (pings and auths use their reserved xids). */
export const validFrames: fc.Arbitrary<Frame[]> = fc.array(request, { minLength: 1, maxLength: 6 }).map((reqs) =>
  reqs.map((r, i) => ({ xid: r.type === OpCode.ping ? -2 : r.type === OpCode.auth ? -4 : i + 1, type: r.type, body: r.body })),
);

const interestingLength = fc.constantFrom(-1, -2, -0x80000000, 0, 1, 4, 7, 0x7fffffff, MAX_BUFFER + 1, MAX_BUFFER + 1024, 0x10000000);
const interestingInt = fc.oneof(fc.constantFrom(-1, -2, -4, -8, -10, -11, 0, 10, 23, 99, 1000, 0x7fffffff, -0x80000000), fc.integer());

/** A mutation of a request stream, applied by mutate(). */
export type Mutation =
  | { kind: 'length'; frame: number; declared: number; delta: boolean }
  | { kind: 'opcode'; frame: number; type: number }
  | { kind: 'xid'; frame: number; xid: number }
  | { kind: 'bitflip'; at: number; bit: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

const frameIndex = fc.nat({ max: 5 });
const offset = fc.nat({ max: 4096 });
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('length' as const), frame: frameIndex, declared: interestingLength, delta: fc.constant(false) }),
  fc.record({ kind: fc.constant('length' as const), frame: frameIndex, declared: fc.integer({ min: -9, max: 9 }), delta: fc.constant(true) }),
  fc.record({ kind: fc.constant('opcode' as const), frame: frameIndex, type: interestingInt }),
  fc.record({ kind: fc.constant('xid' as const), frame: frameIndex, xid: interestingInt }),
  fc.record({ kind: fc.constant('bitflip' as const), at: offset, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: offset, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: offset, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: offset }),
);

/** Applies mutations in order: frame-level ones first, then byte-level ones on the serialized stream. */
export function mutate(frames: Frame[], mutations: Mutation[]): Buffer {
  const fs = frames.map((f) => ({ ...f }));
  for (const m of mutations) {
    if (m.kind !== 'length' && m.kind !== 'opcode' && m.kind !== 'xid') continue;
    const f = fs[m.frame % fs.length];
    if (m.kind === 'length') f.declaredLength = m.delta ? Math.max(-1, 8 + f.body.length + m.declared) : m.declared;
    if (m.kind === 'opcode') f.type = m.type;
    if (m.kind === 'xid') f.xid = m.xid;
  }
  let bytes = serialize(fs);
  for (const m of mutations) bytes = applyByteMutation(bytes, m);
  return bytes;
}

/** A handshake gone wrong: random bytes before it, a mutated ConnectRequest, or random bytes instead of it. */
export type BadHandshake =
  | { kind: 'prefix'; junk: Uint8Array }
  | { kind: 'mutated'; mutations: Mutation[] }
  | { kind: 'random'; junk: Uint8Array }
  | { kind: 'fields'; timeOut: number; passwdLength: number; sessionId: bigint };

export const badHandshake: fc.Arbitrary<BadHandshake> = fc.oneof(
  fc.record({ kind: fc.constant('prefix' as const), junk: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    kind: fc.constant('mutated' as const),
    mutations: fc.array(
      mutation.filter((m) => m.kind !== 'opcode' && m.kind !== 'xid'),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  fc.record({ kind: fc.constant('random' as const), junk: fc.uint8Array({ minLength: 1, maxLength: 256 }) }),
  fc.record({
    kind: fc.constant('fields' as const),
    timeOut: interestingInt,
    passwdLength: fc.constantFrom(0, 1, 15, 16, 17, 4096),
    sessionId: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })),
  }),
);

/** The bytes of a bad handshake. The session timeout asked for is tiny, so sessions it opens expire fast. */
export function handshakeBytes(h: BadHandshake): Buffer {
  const good = connectFrame(1);
  switch (h.kind) {
    case 'prefix':
      return Buffer.concat([Buffer.from(h.junk), good]);
    case 'random':
      return Buffer.from(h.junk);
    case 'fields':
      return connectFrame(h.timeOut, h.sessionId, Buffer.alloc(h.passwdLength, 7));
    case 'mutated': {
      // Reuse the byte-level mutators on the ConnectRequest frame (its length prefix included).
      let bytes: Buffer = Buffer.from(good);
      for (const m of h.mutations) {
        if (m.kind === 'length') {
          // A truncation before it may have left less than a length prefix: nothing to rewrite then.
          if (bytes.length < 4) continue;
          bytes = Buffer.from(bytes);
          bytes.writeInt32BE((m.delta ? good.length - 4 + m.declared : m.declared) | 0, 0);
        } else {
          bytes = applyByteMutation(bytes, m);
        }
      }
      return bytes;
    }
  }
}

function applyByteMutation(bytes: Buffer, m: Mutation): Buffer {
  if (bytes.length === 0) return bytes;
  if (m.kind === 'bitflip') {
    const out = Buffer.from(bytes);
    out[m.at % out.length] ^= 1 << m.bit;
    return out;
  }
  if (m.kind === 'overwrite') {
    const out = Buffer.from(bytes);
    const at = m.at % out.length;
    Buffer.from(m.bytes).copy(out, at, 0, Math.min(m.bytes.length, out.length - at));
    return out;
  }
  if (m.kind === 'insert') {
    const at = m.at % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
  }
  if (m.kind === 'truncate') return bytes.subarray(0, m.at % bytes.length);
  return bytes;
}
