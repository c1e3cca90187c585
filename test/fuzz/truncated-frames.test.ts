/**
 * Every opcode, broken at every byte, wherever a frame can wait (issue 10):
 *
 *  - the frame's body (header included) cut at every byte, or a 4-byte field
 *    at every offset overwritten with a length that runs past the frame;
 *  - for every opcode the server has, including auth (100), sasl (102),
 *    setWatches (101), setWatches2 (105), closeSession (-11) and ping (11);
 *  - sent in the same write as the handshake, behind a few in-flight writes,
 *    or behind enough writes to fill the connection's queue (reading pauses
 *    and the bad frame is decoded on resume).
 *
 * Each case runs on its own connection, followed by a marker request. The
 * server must answer the marker or close the connection (never go silent),
 * close it after our EOF, and stay up for the sentinel client, which writes
 * and reads after every batch. fsync is on, so writes wait on the disk and
 * the back-pressure path really is taken.
 *
 * Bounded for `npm test` (every cut behind the handshake and behind a few
 * writes, a sample of the expensive back-pressure cases); `ZK_FUZZ_SOAK=1`
 * runs every case in every position.
 */
import { JuteWriter, type Record } from '../../src/jute';
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  GetSASLRequest,
  Id,
  MultiHeader,
  OpCode,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  SyncRequest,
} from '../../src/proto';
import { FuzzTarget, STEP_TIMEOUT_MS } from './fuzz-target';
import { RawConnection, connectFrame, requestFrame } from './raw-wire';

const SOAK = process.env.ZK_FUZZ_SOAK === '1';
const REPRODUCE = 'npx jest test/fuzz/truncated-frames.test.ts (deterministic; ZK_FUZZ_SOAK=1 for every case)';
const MARKER_XID = 0x7ffffff0;
const CONCURRENCY = 6;

function encode(rec: Record): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}

const ACL_OPEN = [new ACL({ perms: 31, id: new Id({ scheme: 'world', id: 'anyone' }) })];
const multiBody = (() => {
  const w = new JuteWriter();
  new MultiHeader({ type: OpCode.create, done: false, err: -1 }).serialize(w);
  new CreateRequest({ path: '/tf/m', data: Buffer.from('d'), acl: ACL_OPEN, flags: 0 }).serialize(w);
  new MultiHeader({ type: OpCode.check, done: false, err: -1 }).serialize(w);
  new CheckVersionRequest({ path: '/tf', version: 3 }).serialize(w);
  new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
  return w.toBuffer();
})();

/** A well-formed body for every opcode the server knows (requests, auth, sasl, setWatches, session ops). */
const REQUESTS: Array<{ name: string; type: number; body: Buffer }> = [
  { name: 'auth', type: OpCode.auth, body: encode(new AuthPacket({ type: 0, scheme: 'digest', auth: Buffer.from('user:password') })) },
  { name: 'sasl', type: OpCode.sasl, body: encode(new GetSASLRequest({ token: Buffer.from('0123456789abcdef') })) },
  { name: 'setWatches', type: OpCode.setWatches, body: encode(new SetWatches({ relativeZxid: 1n, dataWatches: ['/tf/a'], existWatches: ['/tf/b'], childWatches: ['/tf'] })) },
  {
    name: 'setWatches2',
    type: OpCode.setWatches2,
    body: encode(new SetWatches2({ relativeZxid: 1n, dataWatches: ['/tf/a'], existWatches: ['/tf/b'], childWatches: ['/tf'], persistentWatches: ['/tf/p'], persistentRecursiveWatches: ['/tf/r'] })),
  },
  { name: 'closeSession', type: OpCode.closeSession, body: Buffer.alloc(0) },
  { name: 'ping', type: OpCode.ping, body: Buffer.alloc(0) },
  { name: 'create', type: OpCode.create, body: encode(new CreateRequest({ path: '/tf/c', data: Buffer.from('data'), acl: ACL_OPEN, flags: 0 })) },
  { name: 'create2', type: OpCode.create2, body: encode(new CreateRequest({ path: '/tf/c2', data: Buffer.from('data'), acl: ACL_OPEN, flags: 2 })) },
  { name: 'createContainer', type: OpCode.createContainer, body: encode(new CreateRequest({ path: '/tf/cc', data: null, acl: ACL_OPEN, flags: 4 })) },
  { name: 'createTTL', type: OpCode.createTTL, body: encode(new CreateTTLRequest({ path: '/tf/ttl', data: null, acl: ACL_OPEN, flags: 5, ttl: 60_000n })) },
  { name: 'delete', type: OpCode.delete, body: encode(new DeleteRequest({ path: '/tf/c', version: -1 })) },
  { name: 'exists', type: OpCode.exists, body: encode(new ExistsRequest({ path: '/tf/a', watch: true })) },
  { name: 'getData', type: OpCode.getData, body: encode(new GetDataRequest({ path: '/tf', watch: true })) },
  { name: 'setData', type: OpCode.setData, body: encode(new SetDataRequest({ path: '/tf', data: Buffer.from('x'), version: -1 })) },
  { name: 'getACL', type: OpCode.getACL, body: encode(new GetACLRequest({ path: '/tf' })) },
  { name: 'setACL', type: OpCode.setACL, body: encode(new SetACLRequest({ path: '/tf/none', acl: ACL_OPEN, version: -1 })) },
  { name: 'getChildren', type: OpCode.getChildren, body: encode(new GetChildrenRequest({ path: '/tf', watch: true })) },
  { name: 'getChildren2', type: OpCode.getChildren2, body: encode(new GetChildren2Request({ path: '/tf', watch: false })) },
  { name: 'sync', type: OpCode.sync, body: encode(new SyncRequest({ path: '/tf' })) },
  { name: 'check', type: OpCode.check, body: encode(new CheckVersionRequest({ path: '/tf', version: 0 })) },
  { name: 'multi', type: OpCode.multi, body: multiBody },
  { name: 'multiRead', type: OpCode.multiRead, body: multiBody },
  { name: 'reconfig', type: OpCode.reconfig, body: encode(new ReconfigRequest({ joiningServers: 'server.9=127.0.0.1:1:2', leavingServers: '', newMembers: '', curConfigId: -1n })) },
  { name: 'checkWatches', type: OpCode.checkWatches, body: encode(new CheckWatchesRequest({ path: '/tf', type: 1 })) },
  { name: 'removeWatches', type: OpCode.removeWatches, body: encode(new RemoveWatchesRequest({ path: '/tf', type: 1 })) },
  { name: 'getEphemerals', type: OpCode.getEphemerals, body: encode(new GetEphemeralsRequest({ prefixPath: '/tf' })) },
  { name: 'getAllChildrenNumber', type: OpCode.getAllChildrenNumber, body: encode(new GetAllChildrenNumberRequest({ path: '/tf' })) },
  { name: 'addWatch', type: OpCode.addWatch, body: encode(new AddWatchRequest({ path: '/tf', mode: 1 })) },
  { name: 'whoAmI', type: OpCode.whoAmI, body: Buffer.alloc(0) },
];

/** The payload (header + body) of `req`, without its length prefix. */
function payload(req: { type: number; body: Buffer }, xid: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(xid, 0);
  head.writeInt32BE(req.type, 4);
  return Buffer.concat([head, req.body]);
}

function withLength(p: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(p.length, 0);
  return Buffer.concat([len, p]);
}

type Breakage = { kind: 'cut'; at: number } | { kind: 'pastFrame'; at: number };

/** Every way to break one request: cut at every byte of its payload, or a length past the frame at every body offset. */
function breakages(req: { type: number; body: Buffer }): Breakage[] {
  const out: Breakage[] = [];
  const whole = 8 + req.body.length;
  for (let at = 0; at < whole; at++) out.push({ kind: 'cut', at });
  for (let at = 8; at + 4 <= whole; at++) out.push({ kind: 'pastFrame', at });
  return out;
}

function broken(req: { type: number; body: Buffer }, b: Breakage, xid: number): Buffer {
  const p = payload(req, req.type === OpCode.ping ? -2 : req.type === OpCode.auth ? -4 : xid);
  if (b.kind === 'cut') return withLength(p.subarray(0, b.at));
  const q = Buffer.from(p);
  q.writeInt32BE(0x7ffffff0, b.at);
  return withLength(q);
}

type Lead = 'handshake' | 'writes' | 'backpressure';

/** Requests sent before the broken one, in the same write. */
function leadFrames(lead: Lead): Buffer {
  const n = lead === 'handshake' ? 0 : lead === 'writes' ? 3 : 1200;
  const frames: Buffer[] = [];
  for (let i = 1; i <= n; i++) frames.push(requestFrame(i, OpCode.setData, new SetDataRequest({ path: '/tf', data: Buffer.from(String(i)), version: -1 })));
  return Buffer.concat(frames);
}

const marker = requestFrame(MARKER_XID, OpCode.exists, new ExistsRequest({ path: '/', watch: false }));

describe('every opcode broken at every byte, behind the handshake, in-flight writes and back-pressure', () => {
  let target: FuzzTarget;
  const outcomes = { cases: 0, markerAnswered: 0, closedByServer: 0 };

  beforeAll(async () => {
    target = await FuzzTarget.start('ours', { tickTime: 500, forceSync: true }, REPRODUCE);
    await target.sentinel.create('/tf', Buffer.from('root'));
    await target.sentinel.create('/tf/a', null);
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  /** One case: its own connection, the lead, the broken frame, a marker. */
  async function runCase(lead: Lead, req: (typeof REQUESTS)[number], b: Breakage): Promise<void> {
    const what = `${req.name} ${b.kind}@${b.at} behind ${lead}`;
    const conn = await RawConnection.open(target.port);
    try {
      // Sessions of 1 ms (clamped to 2 ticks) expire soon after the case.
      conn.write(Buffer.concat([connectFrame(1), leadFrames(lead), broken(req, b, 1_000_000), marker]));
      let answered = false;
      const deadline = Date.now() + 4 * STEP_TIMEOUT_MS;
      while (!answered && !conn.isClosed && Date.now() < deadline) {
        const f = await conn.nextFrame(deadline - Date.now());
        if (f && f.length >= 4 && f.readInt32BE(0) === MARKER_XID) answered = true;
      }
      if (!answered && !conn.isClosed) throw new Error(`${what}: the server neither answered the marker nor closed the connection`);
      outcomes.cases++;
      if (answered) outcomes.markerAnswered++;
      else outcomes.closedByServer++;
      await target.endAndExpectClose(conn, what);
    } finally {
      conn.destroy();
    }
  }

  async function runAll(lead: Lead, cases: Array<[(typeof REQUESTS)[number], Breakage]>): Promise<void> {
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      await Promise.all(cases.slice(i, i + CONCURRENCY).map(([r, b]) => runCase(lead, r, b)));
      if ((i / CONCURRENCY) % 10 === 0) await target.assertServing(`${lead} cases up to ${i}`);
    }
    await target.assertServing(`all ${lead} cases`);
  }

  const all = REQUESTS.flatMap((r) => breakages(r).map((b) => [r, b] as [(typeof REQUESTS)[number], Breakage]));

  test.each<Lead>(['handshake', 'writes'])(`each of ${all.length} broken frames behind %s: answered or closed, the server serves on`, async (lead) => {
    const before = { ...outcomes };
    await runAll(lead, all);
    // Both fates happened: some breakages are refused with a reply (MarshallingError), some close the connection.
    expect(outcomes.markerAnswered - before.markerAnswered).toBeGreaterThan(0);
    expect(outcomes.closedByServer - before.closedByServer).toBeGreaterThan(0);
  }, SOAK ? 3_600_000 : 300_000);

  test('broken frames queued behind 1,200 writes (reading paused, decoded on resume): answered or closed', async () => {
    // Every opcode, with a few breakages each (all of them under ZK_FUZZ_SOAK=1): each case writes 1,200 fsynced setData.
    const sample = SOAK ? all : REQUESTS.flatMap((r) => {
      const bs = breakages(r);
      return [bs[0], bs[Math.floor(bs.length / 3)], bs[bs.length - 1]].map((b) => [r, b] as [(typeof REQUESTS)[number], Breakage]);
    });
    await runAll('backpressure', sample);
    expect(outcomes.cases).toBeGreaterThan(2 * all.length);
  }, SOAK ? 3_600_000 : 600_000);
});
