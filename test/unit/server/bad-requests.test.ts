/**
 * Odd requests on an established session, answered the way Apache
 * ZooKeeper 3.8 answers them (test/fuzz/server-fuzz.test.ts compares the
 * same cases against a real Apache server; these run in-process and also
 * check the zxids and what reached the log):
 *
 *  - unknown opcodes (999, -1, and 0, the notification opcode) get
 *    Unimplemented with zxid -1, in session order; unlike Apache (a product
 *    decision) the connection stays open;
 *  - a createSession opcode inside a session is an ErrorTxn(MarshallingError)
 *    with its own zxid, and no session is created;
 *  - an undecodable reconfig is MarshallingError without a txn;
 *  - the empty path names the root for reads;
 *  - a negative vector count (other than -1) reads as an empty vector: a
 *    create with ACL count -5 is InvalidACL; setWatches with null lists is
 *    MarshallingError.
 */
import { JuteWriter } from '../../../src/jute';
import { ErrorCode, ExistsRequest, ExistsResponse, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse, OpCode, SetDataRequest } from '../../../src/proto';
import { ZooKeeperServer } from '../../../src/server';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import type { TxnEntry } from '../../../src/server/persist/types';
import { RawClient, decode } from './raw-client';

jest.setTimeout(20_000);

/** A memory store that remembers what was logged. */
class RecordingStore extends MemoryTxnStore {
  readonly logged: TxnEntry[] = [];
  override append(entries: TxnEntry[]): Promise<void> {
    this.logged.push(...entries);
    return super.append(entries);
  }
}

const body = (write: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter();
  write(w);
  return w.toBuffer();
};

describe('odd requests on an established session', () => {
  let srv: ZooKeeperServer;
  let store: RecordingStore;
  let c: RawClient;

  beforeEach(async () => {
    store = new RecordingStore();
    srv = await ZooKeeperServer.start({ store, clientPort: 0 });
    c = await RawClient.connect(srv.clientPort);
  });
  afterEach(async () => {
    c.close();
    await srv.close();
  });

  /** The server's current zxid, as an exists reply carries it. */
  const zxidNow = async (): Promise<bigint> => (await c.call(OpCode.exists, new ExistsRequest({ path: '/', watch: false }))).header.zxid;

  it.each([
    ['999', 999],
    ['-1 (error)', -1],
    ['0 (notification)', 0],
  ])('unknown opcode %s: Unimplemented with zxid -1, in session order, and the connection stays usable', async (_name, op) => {
    // A write pipelined before it: the Unimplemented reply must not overtake the write's reply.
    const w = c.send(OpCode.setData, new SetDataRequest({ path: '/', data: Buffer.from('x'), version: -1 }));
    const u = c.send(op, null);
    const r = await c.reply(u);
    expect({ err: r.header.err, zxid: r.header.zxid }).toEqual({ err: ErrorCode.UNIMPLEMENTED, zxid: -1n });
    expect((await c.reply(w)).header.err).toBe(0);
    expect(c.closed).toBe(false);
    expect((await c.call(OpCode.exists, new ExistsRequest({ path: '/', watch: false }))).header.err).toBe(0);
    expect(c.closed).toBe(false);
  });

  it('replies in session order even when the unknown opcode follows a write', async () => {
    const w = c.send(OpCode.setData, new SetDataRequest({ path: '/', data: Buffer.from('y'), version: -1 }));
    const u = c.send(999, null);
    await c.waitFor(() => c.peek().some((f) => f.header.xid === u));
    expect(c.peek().map((f) => f.header.xid)).toEqual([w, u]);
  });

  it('createSession inside a session: MarshallingError with its own zxid (an ErrorTxn), no new session', async () => {
    const before = await zxidNow();
    const sessionsBefore = srv.sessions.sessions.size;
    const r = await c.call(OpCode.createSession, null);
    expect({ err: r.header.err, zxid: r.header.zxid }).toEqual({ err: ErrorCode.MARSHALLINGERROR, zxid: before + 1n });
    const last = store.logged[store.logged.length - 1];
    expect({ type: last.header.type, zxid: last.header.zxid }).toEqual({ type: OpCode.error, zxid: before + 1n });
    expect(srv.sessions.sessions.size).toBe(sessionsBefore);
    // A body with a timeout in it changes nothing (Apache would re-run session init; we refuse it).
    const r2 = await c.call(OpCode.createSession, body((w) => w.writeInt(30000)));
    expect(r2.header.err).toBe(ErrorCode.MARSHALLINGERROR);
    expect(srv.sessions.sessions.size).toBe(sessionsBefore);
  });

  it('an undecodable reconfig: MarshallingError with the current zxid and nothing logged', async () => {
    const before = await zxidNow();
    const logged = store.logged.length;
    const r = await c.call(OpCode.reconfig, null);
    expect({ err: r.header.err, zxid: r.header.zxid }).toEqual({ err: ErrorCode.MARSHALLINGERROR, zxid: before });
    expect(store.logged.length).toBe(logged);
  });

  it('the empty path names the root for reads, and is refused for writes', async () => {
    const root = decode(ExistsResponse, (await c.call(OpCode.exists, new ExistsRequest({ path: '/', watch: false }))).body).stat;
    const e = await c.call(OpCode.exists, new ExistsRequest({ path: '', watch: false }));
    expect(e.header.err).toBe(0);
    expect(decode(ExistsResponse, e.body).stat).toEqual(root);
    const d = await c.call(OpCode.getData, new GetDataRequest({ path: '', watch: false }));
    expect(decode(GetDataResponse, d.body).stat).toEqual(root);
    const k = await c.call(OpCode.getChildren, new GetChildrenRequest({ path: '', watch: false }));
    expect(decode(GetChildrenResponse, k.body).children).toEqual(['zookeeper']);
    const s = await c.call(OpCode.setData, new SetDataRequest({ path: '', data: null, version: -1 }));
    expect(s.header.err).toBe(ErrorCode.BADARGUMENTS);
  });

  it('a negative vector count reads as an empty vector: ACL count -5 is InvalidACL, for create and setACL', async () => {
    const create = await c.call(OpCode.create, body((w) => w.writeString('/acl-neg').writeBuffer(null).writeInt(-5).writeInt(0)));
    expect(create.header.err).toBe(ErrorCode.INVALIDACL);
    const setAcl = await c.call(OpCode.setACL, body((w) => w.writeString('/').writeInt(-5).writeInt(-1)));
    expect(setAcl.header.err).toBe(ErrorCode.INVALIDACL);
    // Counts past the end of the frame stay MarshallingError.
    const huge = await c.call(OpCode.create, body((w) => w.writeString('/acl-huge').writeBuffer(null).writeInt(0x7fffffff).writeInt(0)));
    expect(huge.header.err).toBe(ErrorCode.MARSHALLINGERROR);
  });

  it('setWatches: counts of -5 are empty lists (OK); null lists are MarshallingError', async () => {
    const empty = await c.reply(c.send(OpCode.setWatches, body((w) => w.writeLong(0n).writeInt(-5).writeInt(-5).writeInt(0)), -8));
    expect(empty.header.err).toBe(0);
    const nulls = await c.reply(c.send(OpCode.setWatches, body((w) => w.writeLong(0n).writeInt(-1).writeInt(-1).writeInt(-1)), -8));
    expect(nulls.header.err).toBe(ErrorCode.MARSHALLINGERROR);
  });
});
