/**
 * Hand-picked bad inputs, each sent on its own connection to our server and
 * to Apache ZooKeeper 3.8, where the outcome (replies, then whether the
 * connection is still usable or closed) must match. Apache decides what is
 * right: e.g. a truncated body gets MarshallingError on a connection that
 * stays open, a bad frame length closes it at once, a negative vector count
 * reads as an empty vector, and the empty path "" names the root.
 *
 * One deliberate difference (product decision, issue 3: "Unknown opcodes get
 * Unimplemented, not a dropped connection"): an opcode the server does not
 * know gets the same Unimplemented reply (zxid -1) from both, but Apache then
 * closes the connection (UnimplementedRequestProcessor calls
 * sendCloseSession()) while ours keeps it open. Those cases carry
 * `unlikeApache`, and the test checks each server against its own expectation.
 */
import { JuteReader, JuteWriter } from '../../src/jute';
import {
  AuthPacket,
  ConnectResponse,
  CreateRequest,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  Ids,
  OpCode,
} from '../../src/proto';
import { RawConnection, connectFrame, frameWithLength, requestFrame } from './raw-wire';

export interface BadInputCase {
  name: string;
  /** Sent after a valid handshake (true) or as the very first bytes (false). */
  afterHandshake: boolean;
  bytes: Buffer;
  /**
   * false: send no marker request after the bytes (for closeSession, where
   * whether a request pipelined behind it is still answered is a race).
   */
  marker?: boolean;
  /**
   * A deliberate difference from Apache: what each server's connection does
   * after the (identical) replies, and why. Without it the outcomes must be equal.
   */
  unlikeApache?: { apacheThen: CaseOutcome['then']; oursThen: CaseOutcome['then']; why: string };
  /** Also compare the zxids of the replies (run one at a time, so no other txn gets in between). */
  zxid?: boolean;
}

/** What the server did about one case; compared between servers with toEqual. */
export interface CaseOutcome {
  handshake?: 'granted' | 'refused' | 'none';
  /**
   * zxid only when measured (runCase's withZxid): 'none' for -1, otherwise how
   * far past the zxid seen just before the case (0 = no txn, 1 = one txn).
   */
  replies: { xid: number; err: number; zxid?: number | 'none' }[];
  then: 'usable' | 'closed' | 'silent';
  /** With withZxid: the marker's zxid, as a distance like the replies' (how many txns the case made). */
  markerZxid?: number;
}

const UNKNOWN_OPCODE_KEEPS_CONNECTION = {
  apacheThen: 'closed',
  oursThen: 'usable',
  why: 'product decision (issue 3): unknown opcodes get Unimplemented, not a dropped connection',
} as const;

const MARKER_XID = 777_777;

function header(xid: number, type: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(xid, 0);
  b.writeInt32BE(type, 4);
  return b;
}
function framed(payload: Buffer): Buffer {
  return frameWithLength(payload.length, payload);
}
function bytesOf(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  write(w);
  return w.toBuffer();
}
const getRoot = () => new GetDataRequest({ path: '/', watch: false });

export const BAD_INPUT_CASES: BadInputCase[] = [
  { name: 'unknown opcode 999', afterHandshake: true, bytes: requestFrame(1, 999), unlikeApache: UNKNOWN_OPCODE_KEEPS_CONNECTION, zxid: true },
  { name: 'unknown opcode 999 with a body', afterHandshake: true, bytes: requestFrame(1, 999, getRoot()), unlikeApache: UNKNOWN_OPCODE_KEEPS_CONNECTION },
  {
    name: 'opcode 0 (notification) from a client',
    afterHandshake: true,
    bytes: requestFrame(1, OpCode.notification),
    unlikeApache: UNKNOWN_OPCODE_KEEPS_CONNECTION,
    zxid: true,
  },
  { name: 'opcode -1 (error) from a client', afterHandshake: true, bytes: requestFrame(1, -1), unlikeApache: UNKNOWN_OPCODE_KEEPS_CONNECTION },
  { name: 'createSession opcode inside a session', afterHandshake: true, bytes: requestFrame(1, OpCode.createSession), zxid: true },
  { name: 'reconfig with an empty body', afterHandshake: true, bytes: requestFrame(1, OpCode.reconfig), zxid: true },
  { name: 'negative frame length', afterHandshake: true, bytes: frameWithLength(-5, Buffer.alloc(8)) },
  { name: 'frame length jute.maxbuffer + 1', afterHandshake: true, bytes: frameWithLength(0xfffff + 1, Buffer.alloc(8)) },
  { name: 'frame length 2^31-1', afterHandshake: true, bytes: frameWithLength(0x7fffffff, Buffer.alloc(8)) },
  { name: 'frame length 0', afterHandshake: true, bytes: frameWithLength(0, Buffer.alloc(0)) },
  { name: 'frame shorter than a request header', afterHandshake: true, bytes: framed(Buffer.from([0, 0, 0, 1])) },
  { name: 'getData of a relative path', afterHandshake: true, bytes: requestFrame(1, OpCode.getData, new GetDataRequest({ path: 'abc', watch: false })) },
  { name: 'getData of a path with //', afterHandshake: true, bytes: requestFrame(1, OpCode.getData, new GetDataRequest({ path: '/a//b', watch: false })) },
  { name: 'exists of the empty path', afterHandshake: true, bytes: requestFrame(1, OpCode.exists, new ExistsRequest({ path: '', watch: false })), zxid: true },
  { name: 'getData of the empty path', afterHandshake: true, bytes: requestFrame(1, OpCode.getData, new GetDataRequest({ path: '', watch: true })) },
  { name: 'getChildren of the empty path', afterHandshake: true, bytes: requestFrame(1, OpCode.getChildren, new GetChildrenRequest({ path: '', watch: false })) },
  { name: 'getChildren2 of the empty path', afterHandshake: true, bytes: requestFrame(1, OpCode.getChildren2, new GetChildren2Request({ path: '', watch: false })) },
  { name: 'getACL of the empty path', afterHandshake: true, bytes: requestFrame(1, OpCode.getACL, new GetACLRequest({ path: '' })) },
  {
    name: 'getAllChildrenNumber of the empty path',
    afterHandshake: true,
    bytes: requestFrame(1, OpCode.getAllChildrenNumber, new GetAllChildrenNumberRequest({ path: '' })),
  },
  {
    name: 'multiRead getData of the empty path',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.multiRead), bytesOf((w) => w.writeInt(OpCode.getData).writeBool(false).writeInt(-1).writeString('').writeBool(false).writeInt(-1).writeBool(true).writeInt(-1))])),
  },
  { name: 'setData of the empty path', afterHandshake: true, bytes: framed(Buffer.concat([header(1, OpCode.setData), bytesOf((w) => w.writeString('').writeBuffer(null).writeInt(-1))])), zxid: true },
  {
    name: 'create of a relative path',
    afterHandshake: true,
    bytes: requestFrame(1, OpCode.create, new CreateRequest({ path: 'abc', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 })),
  },
  {
    name: 'create with flags 99',
    afterHandshake: true,
    bytes: requestFrame(1, OpCode.create, new CreateRequest({ path: '/fz-flags99', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 99 })),
  },
  { name: 'getData with no body', afterHandshake: true, bytes: framed(header(1, OpCode.getData)) },
  { name: 'create with no body', afterHandshake: true, bytes: framed(header(1, OpCode.create)), zxid: true },
  { name: 'exists with a string length of 2^31-1', afterHandshake: true, bytes: framed(Buffer.concat([header(1, OpCode.exists), Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2])])) },
  { name: 'exists with a string length of -7', afterHandshake: true, bytes: framed(Buffer.concat([header(1, OpCode.exists), Buffer.from([0xff, 0xff, 0xff, 0xf9, 0])])) },
  {
    name: 'create with an ACL vector length of -5',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.create), bytesOf((w) => w.writeString('/fz-acl-neg').writeBuffer(null).writeInt(-5).writeInt(0))])),
    zxid: true,
  },
  {
    name: 'create2 with an ACL vector length of -5',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.create2), bytesOf((w) => w.writeString('/fz-acl-neg2').writeBuffer(null).writeInt(-5).writeInt(0))])),
    zxid: true,
  },
  {
    name: 'setACL with an ACL vector length of -5',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.setACL), bytesOf((w) => w.writeString('/').writeInt(-5).writeInt(-1))])),
  },
  {
    name: 'multi whose create has an ACL vector length of -5',
    afterHandshake: true,
    bytes: framed(
      Buffer.concat([
        header(1, OpCode.multi),
        bytesOf((w) => w.writeInt(OpCode.create).writeBool(false).writeInt(-1).writeString('/fz-multi-acl').writeBuffer(null).writeInt(-5).writeInt(0).writeInt(-1).writeBool(true).writeInt(-1)),
      ]),
    ),
  },
  {
    name: 'setWatches with watch list counts of -5',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(-8, OpCode.setWatches), bytesOf((w) => w.writeLong(0n).writeInt(-5).writeInt(-5).writeInt(0))])),
  },
  {
    name: 'setWatches with null watch lists',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(-8, OpCode.setWatches), bytesOf((w) => w.writeLong(0n).writeInt(-1).writeInt(-1).writeInt(-1))])),
  },
  {
    name: 'create with an ACL vector length of 2^31-1',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.create), bytesOf((w) => w.writeString('/fz-acl-huge').writeBuffer(null).writeInt(0x7fffffff).writeInt(0))])),
  },
  {
    name: 'setData with a buffer length of -5',
    afterHandshake: true,
    bytes: framed(Buffer.concat([header(1, OpCode.setData), bytesOf((w) => w.writeString('/').writeInt(-5).writeInt(-1))])),
  },
  { name: 'multi with a garbage body', afterHandshake: true, bytes: framed(Buffer.concat([header(1, OpCode.multi), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])])), zxid: true },
  { name: 'getData with trailing garbage', afterHandshake: true, bytes: framed(Buffer.concat([requestFrame(1, OpCode.getData, getRoot()).subarray(4), Buffer.from([9, 9, 9, 9, 9])])) },
  { name: 'getData with the ping xid', afterHandshake: true, bytes: requestFrame(-2, OpCode.getData, getRoot()) },
  { name: 'getData with the setWatches xid', afterHandshake: true, bytes: requestFrame(-8, OpCode.getData, getRoot()) },
  { name: 'getData with xid 2^31-1', afterHandshake: true, bytes: requestFrame(0x7fffffff, OpCode.getData, getRoot()) },
  { name: 'auth with an unknown scheme', afterHandshake: true, bytes: requestFrame(-4, OpCode.auth, new AuthPacket({ type: 0, scheme: 'nosuch', auth: Buffer.from('x') })) },
  { name: 'digest auth without a colon', afterHandshake: true, bytes: requestFrame(-4, OpCode.auth, new AuthPacket({ type: 0, scheme: 'digest', auth: Buffer.from('nocolon') })) },
  { name: 'closeSession', afterHandshake: true, bytes: requestFrame(1, OpCode.closeSession), marker: false },
  { name: 'a request before any handshake', afterHandshake: false, bytes: requestFrame(1, OpCode.getData, getRoot()) },
  { name: '10 framed random bytes as the handshake', afterHandshake: false, bytes: framed(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) },
  { name: 'handshake frame length 2^28', afterHandshake: false, bytes: frameWithLength(0x10000000, Buffer.alloc(4)) },
  { name: 'handshake frame length -1', afterHandshake: false, bytes: frameWithLength(-1, Buffer.alloc(4)) },
  { name: 'handshake frame length 0', afterHandshake: false, bytes: frameWithLength(0, Buffer.alloc(0)) },
  { name: 'handshake asking for session timeout -1', afterHandshake: false, bytes: connectFrame(-1) },
  { name: 'handshake with a 3-byte password', afterHandshake: false, bytes: connectFrame(30_000, 0n, Buffer.from([1, 2, 3])) },
  { name: 'handshake re-attaching an unknown session', afterHandshake: false, bytes: connectFrame(30_000, 0x1234567n, Buffer.alloc(16)) },
  { name: 'handshake with trailing garbage in its frame', afterHandshake: false, bytes: framed(Buffer.concat([connectFrame().subarray(4), Buffer.from([7, 7, 7, 7, 7, 7, 7])])) },
  { name: 'handshake truncated inside its frame', afterHandshake: false, bytes: framed(connectFrame().subarray(4, 20)) },
];

/** The marker request: its reply ends the case's replies and proves the connection still works. */
function marker(): Buffer {
  return requestFrame(MARKER_XID, OpCode.exists, new ExistsRequest({ path: '/', watch: false }));
}

const PROBE_XID = 777_776;

/**
 * Runs one case on a fresh connection; settles within a few seconds whatever
 * the server does. withZxid (after-handshake cases only) also records reply
 * zxids relative to the server's zxid just before the case; that is only
 * meaningful when nothing else writes meanwhile, so run such cases one at a time.
 */
export async function runCase(port: number, c: BadInputCase, quietMs = 1500, withZxid = false): Promise<CaseOutcome> {
  const conn = await RawConnection.open(port);
  try {
    const out: CaseOutcome = { replies: [], then: 'silent' };
    let z0: bigint | null = null;
    const rel = (z: bigint): number | 'none' => (z === -1n ? 'none' : Number(z - z0!));
    if (c.afterHandshake) {
      const hs = await conn.handshake(5000);
      if (!hs) throw new Error(`valid handshake refused before case '${c.name}'`);
      if (withZxid) {
        conn.write(requestFrame(PROBE_XID, OpCode.exists, new ExistsRequest({ path: '/', watch: false })));
        const probe = await conn.replyTo(PROBE_XID, 5000);
        if (!probe) throw new Error(`no zxid probe reply before case '${c.name}'`);
        z0 = probe.zxid;
      }
    } else {
      conn.write(c.bytes);
      const f = await conn.nextFrame(quietMs);
      if (!f) {
        out.handshake = 'none';
        out.then = conn.isClosed ? 'closed' : 'silent';
        return out;
      }
      const resp = new ConnectResponse().deserialize(new JuteReader(f));
      out.handshake = resp.timeOut > 0 && resp.sessionId !== 0n ? 'granted' : 'refused';
    }
    if (c.afterHandshake) conn.write(c.bytes);
    if (c.marker !== false) conn.write(marker());
    for (;;) {
      const r = await conn.nextReply(quietMs);
      if (!r) {
        out.then = conn.isClosed ? 'closed' : 'silent';
        return out;
      }
      if (r.xid === MARKER_XID) {
        out.then = 'usable';
        if (z0 !== null) out.markerZxid = rel(r.zxid) as number;
        return out;
      }
      if (r.xid !== -1) out.replies.push(z0 !== null ? { xid: r.xid, err: r.err, zxid: rel(r.zxid) } : { xid: r.xid, err: r.err });
    }
  } finally {
    conn.destroy();
  }
}
