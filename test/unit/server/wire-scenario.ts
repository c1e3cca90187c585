/**
 * A fixed conversation with a ZooKeeper server over raw frames, recorded as a
 * transcript of normalized reply frames. Run against Apache ZooKeeper 3.8 and
 * against our server, the transcripts must be equal: same xids, zxids, error
 * codes and body bytes. Normalization only removes what legitimately differs
 * between two runs: wall-clock times (ctime/mtime), session ids and passwords,
 * and the order of getChildren lists (Apache returns HashSet order).
 */
import { JuteReader, JuteWriter, type Record as JuteRecord } from '../../../src/jute';
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildren2Response,
  GetChildrenRequest,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  Id,
  Ids,
  OpCode,
  Perms,
  RemoveWatchesRequest,
  SetACLRequest,
  SetACLResponse,
  SetDataRequest,
  SetDataResponse,
  SetWatches,
  Stat,
  SyncRequest,
  WatcherEvent,
  WhoAmIResponse,
} from '../../../src/proto';
import { encodeMultiRequest, MultiResponse } from '../../../src/server/request/request-records';
import { generateDigest } from '../../../src/server/tree/acl-check';
import { RawClient, type Frame } from './raw-client';

type Decoder = new () => JuteRecord;

function normStat(s: Stat, sessions: Map<bigint, number>): void {
  s.ctime = 0n;
  s.mtime = 0n;
  if (s.ephemeralOwner !== 0n) {
    if (!sessions.has(s.ephemeralOwner)) sessions.set(s.ephemeralOwner, sessions.size + 1);
    s.ephemeralOwner = BigInt(sessions.get(s.ephemeralOwner)!);
  }
}

/** Re-encodes a decoded body with times zeroed, session ids numbered, children sorted. */
function normalizeBody(body: Buffer, Ctor: Decoder | null, sessions: Map<bigint, number>): string {
  if (!Ctor || body.length === 0) return body.toString('hex');
  const rec = new Ctor().deserialize(new JuteReader(body)) as JuteRecord & { stat?: Stat; children?: string[]; results?: MultiResponse['results'] };
  if (rec.stat) normStat(rec.stat, sessions);
  if (rec.children) rec.children.sort();
  if (rec instanceof MultiResponse) {
    for (const r of rec.results) {
      if ('stat' in r && r.stat) normStat(r.stat, sessions);
      if ('children' in r) r.children.sort();
    }
  }
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer().toString('hex');
}

export interface TranscriptLine {
  step: string;
  client: string;
  xid: number;
  zxid: string;
  err: number;
  body: string;
}

export async function runScenario(port: number): Promise<TranscriptLine[]> {
  const out: TranscriptLine[] = [];
  const sessions = new Map<bigint, number>();
  const record = (step: string, client: string, f: Frame, Ctor: Decoder | null): void => {
    out.push({ step, client, xid: f.header.xid, zxid: f.header.zxid.toString(), err: f.header.err, body: f.header.err === 0 || f.header.xid === -1 ? normalizeBody(f.body, Ctor, sessions) : f.body.toString('hex') });
  };
  const clients: Record<string, RawClient> = {};
  const call = async (step: string, name: string, type: number, req: JuteRecord | Buffer | null, Ctor: Decoder | null, xid?: number): Promise<Frame> => {
    const c = clients[name];
    const f = await c.reply(c.send(type, req, xid));
    record(step, name, f, Ctor);
    return f;
  };
  const events = async (step: string, name: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const e = await clients[name].event();
      const h = clients[name].lastEventHeader!;
      out.push({ step, client: name, xid: h.xid, zxid: h.zxid.toString(), err: h.err, body: `${e.type}:${e.state}:${e.path}` });
    }
    // Nothing else may arrive (a duplicate or unexpected event would show here).
    await new Promise((r) => setTimeout(r, 200));
    const extra = clients[name].drain();
    if (extra.length) out.push({ step: `${step}-extra`, client: name, xid: 0, zxid: '', err: 0, body: extra.map((f) => f.raw.toString('hex')).join(' ') });
  };
  const open = (s: string): CreateRequest => new CreateRequest({ path: s, data: Buffer.from('x'), acl: Ids.OPEN_ACL_UNSAFE, flags: 0 });

  clients.A = await RawClient.connect(port, { timeOut: 30000 });
  out.push({ step: 'connect', client: 'A', xid: 0, zxid: '', err: 0, body: `timeout=${clients.A.connectResponse!.timeOut} len=${clients.A.connectRaw!.length}` });
  clients.B = await RawClient.connect(port, { timeOut: 1 });
  out.push({ step: 'connect-clamped', client: 'B', xid: 0, zxid: '', err: 0, body: `timeout=${clients.B.connectResponse!.timeOut} len=${clients.B.connectRaw!.length}` });

  await call('create2', 'A', OpCode.create2, open('/a'), Create2Response);
  await call('create-exists', 'A', OpCode.create2, open('/a'), Create2Response);
  await call('create-plain', 'A', OpCode.create, open('/p'), CreateResponse);
  for (let i = 0; i < 2; i++) {
    await call('seq', 'A', OpCode.create2, new CreateRequest({ path: '/a/s-', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 2 }), Create2Response);
  }
  await call('delete-seq', 'A', OpCode.delete, new DeleteRequest({ path: '/a/s-0000000000', version: -1 }), null);
  await call('seq-after-delete', 'A', OpCode.create2, new CreateRequest({ path: '/a/s-', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 2 }), Create2Response);
  await call('exists-parent', 'A', OpCode.exists, new ExistsRequest({ path: '/a', watch: false }), ExistsResponse);
  await call('get-root', 'A', OpCode.getData, new GetDataRequest({ path: '/', watch: false }), GetDataResponse);
  await call('get-config', 'A', OpCode.getData, new GetDataRequest({ path: '/zookeeper/config', watch: false }), GetDataResponse);
  await call('getacl-config', 'A', OpCode.getACL, new GetACLRequest({ path: '/zookeeper/config' }), GetACLResponse);
  await call('getacl-zookeeper', 'A', OpCode.getACL, new GetACLRequest({ path: '/zookeeper' }), GetACLResponse);
  await call('children-zookeeper', 'A', OpCode.getChildren2, new GetChildren2Request({ path: '/zookeeper', watch: false }), GetChildren2Response);
  await call('get-quota', 'A', OpCode.getData, new GetDataRequest({ path: '/zookeeper/quota', watch: false }), GetDataResponse);
  await call('setdata-badversion', 'A', OpCode.setData, new SetDataRequest({ path: '/a', data: Buffer.from('y'), version: 5 }), SetDataResponse);
  await call('setdata', 'A', OpCode.setData, new SetDataRequest({ path: '/a', data: Buffer.from('y'), version: 0 }), SetDataResponse);
  await call('setdata-nonode', 'A', OpCode.setData, new SetDataRequest({ path: '/nope', data: null, version: -1 }), SetDataResponse);
  await call('ephemeral', 'A', OpCode.create2, new CreateRequest({ path: '/e', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 1 }), Create2Response);
  await call('child-of-ephemeral', 'A', OpCode.create2, open('/e/c'), Create2Response);
  await call('create-no-parent', 'A', OpCode.create2, open('/x/y'), Create2Response);
  await call('create-bad-path', 'A', OpCode.create2, open('/bad/'), Create2Response);
  await call('create-relative', 'A', OpCode.create2, open('a'), Create2Response);
  await call('create-bad-flags', 'A', OpCode.create2, new CreateRequest({ path: '/f', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 9 }), Create2Response);
  await call('delete-special', 'A', OpCode.delete, new DeleteRequest({ path: '/zookeeper', version: -1 }), null);
  await call('delete-notempty', 'A', OpCode.delete, new DeleteRequest({ path: '/a', version: -1 }), null);
  await call('delete-badversion', 'A', OpCode.delete, new DeleteRequest({ path: '/p', version: 3 }), null);
  await call('acl-bad-scheme', 'A', OpCode.create2, new CreateRequest({ path: '/q', data: null, acl: [new ACL({ perms: 31, id: new Id({ scheme: 'foo', id: 'bar' }) })], flags: 0 }), Create2Response);
  await call('acl-auth-unauthenticated', 'A', OpCode.create2, new CreateRequest({ path: '/q', data: null, acl: Ids.CREATOR_ALL_ACL, flags: 0 }), Create2Response);
  await call('acl-empty', 'A', OpCode.create2, new CreateRequest({ path: '/q', data: null, acl: [], flags: 0 }), Create2Response);
  await call('acl-bad-digest', 'A', OpCode.create2, new CreateRequest({ path: '/q', data: null, acl: [new ACL({ perms: 31, id: new Id({ scheme: 'digest', id: 'nocolon' }) })], flags: 0 }), Create2Response);
  await call('acl-ip-cidr', 'A', OpCode.create2, new CreateRequest({ path: '/ip', data: null, acl: [new ACL({ perms: 31, id: new Id({ scheme: 'ip', id: '127.0.0.0/8' }) })], flags: 0 }), Create2Response);
  await call('acl-ip-bad', 'A', OpCode.create2, new CreateRequest({ path: '/ip2', data: null, acl: [new ACL({ perms: 31, id: new Id({ scheme: 'ip', id: '300.1.1.1' }) })], flags: 0 }), Create2Response);
  await call('whoami-before', 'A', OpCode.whoAmI, null, WhoAmIResponse);
  await call('addauth', 'A', OpCode.auth, new AuthPacket({ type: 0, scheme: 'digest', auth: Buffer.from('u:p') }), null, -4);
  await call('whoami-after', 'A', OpCode.whoAmI, null, WhoAmIResponse);
  const digestAcl = [new ACL({ perms: Perms.ALL, id: new Id({ scheme: 'digest', id: generateDigest('u:p') }) }), new ACL({ perms: Perms.READ, id: Ids.ANYONE_ID_UNSAFE })];
  await call('create-digest', 'A', OpCode.create2, new CreateRequest({ path: '/d', data: Buffer.from('secret'), acl: digestAcl, flags: 0 }), Create2Response);
  await call('create-auth-acl', 'A', OpCode.create2, new CreateRequest({ path: '/d2', data: null, acl: Ids.CREATOR_ALL_ACL, flags: 0 }), Create2Response);
  await call('getacl-masked', 'B', OpCode.getACL, new GetACLRequest({ path: '/d' }), GetACLResponse);
  await call('getacl-owner', 'A', OpCode.getACL, new GetACLRequest({ path: '/d2' }), GetACLResponse);
  await call('get-noauth', 'B', OpCode.getData, new GetDataRequest({ path: '/d2', watch: false }), GetDataResponse);
  await call('set-noauth', 'B', OpCode.setData, new SetDataRequest({ path: '/d', data: null, version: -1 }), SetDataResponse);
  await call('setacl', 'A', OpCode.setACL, new SetACLRequest({ path: '/p', acl: Ids.READ_ACL_UNSAFE, version: 0 }), SetACLResponse);
  await call('setacl-badversion', 'A', OpCode.setACL, new SetACLRequest({ path: '/p', acl: Ids.OPEN_ACL_UNSAFE, version: 0 }), SetACLResponse);
  await call('set-readonly-acl', 'A', OpCode.setData, new SetDataRequest({ path: '/p', data: null, version: -1 }), SetDataResponse);

  const multiFail = encodeMultiRequest([
    { type: OpCode.create, record: open('/m') },
    { type: OpCode.setData, record: new SetDataRequest({ path: '/a', data: Buffer.from('z'), version: -1 }) },
    { type: OpCode.check, record: new CheckVersionRequest({ path: '/a', version: 99 }) },
    { type: OpCode.delete, record: new DeleteRequest({ path: '/p', version: -1 }) },
  ]);
  await call('multi-fail', 'A', OpCode.multi, multiFail, MultiResponse);
  const multiOk = encodeMultiRequest([
    { type: OpCode.create, record: open('/m') },
    { type: OpCode.create2, record: new CreateRequest({ path: '/m/s-', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 2 }) },
    { type: OpCode.setData, record: new SetDataRequest({ path: '/m', data: Buffer.from('z'), version: 0 }) },
    { type: OpCode.check, record: new CheckVersionRequest({ path: '/m', version: 1 }) },
    { type: OpCode.delete, record: new DeleteRequest({ path: '/m/s-0000000000', version: -1 }) },
  ]);
  await call('multi-ok', 'A', OpCode.multi, multiOk, MultiResponse);
  await call('multi-empty', 'A', OpCode.multi, encodeMultiRequest([]), MultiResponse);
  const multiRead = encodeMultiRequest([
    { type: OpCode.getData, record: new GetDataRequest({ path: '/a', watch: false }) },
    { type: OpCode.getChildren, record: new GetChildrenRequest({ path: '/nope', watch: false }) },
    { type: OpCode.getChildren, record: new GetChildrenRequest({ path: '/m', watch: false }) },
  ]);
  await call('multi-read', 'A', OpCode.multiRead, multiRead, MultiResponse);
  await call('all-children', 'A', OpCode.getAllChildrenNumber, new GetAllChildrenNumberRequest({ path: '/' }), null);
  await call('ephemerals', 'A', OpCode.getEphemerals, new GetEphemeralsRequest({ prefixPath: '/' }), GetEphemeralsResponse);
  await call('ttl-disabled', 'A', OpCode.createTTL, new CreateTTLRequest({ path: '/t', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 5, ttl: 1000n }), Create2Response);
  await call('container', 'A', OpCode.createContainer, new CreateRequest({ path: '/c', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 4 }), Create2Response);
  await call('exists-container', 'A', OpCode.exists, new ExistsRequest({ path: '/c', watch: false }), ExistsResponse);
  await call('sync', 'A', OpCode.sync, new SyncRequest({ path: '/a' }), null);

  // Watches: B's one-shot data watch fires (before A's reply is built), then is gone.
  await call('watch-getdata', 'B', OpCode.getData, new GetDataRequest({ path: '/a', watch: true }), GetDataResponse);
  await call('watch-exists-missing', 'B', OpCode.exists, new ExistsRequest({ path: '/w', watch: true }), ExistsResponse);
  await call('watch-children', 'B', OpCode.getChildren2, new GetChildren2Request({ path: '/a', watch: true }), GetChildren2Response);
  await call('checkwatches-data', 'B', OpCode.checkWatches, new CheckWatchesRequest({ path: '/a', type: 2 }), null);
  await call('trigger-setdata', 'A', OpCode.setData, new SetDataRequest({ path: '/a', data: Buffer.from('w'), version: -1 }), SetDataResponse);
  await events('event-datachanged', 'B', 1);
  await call('checkwatches-gone', 'B', OpCode.checkWatches, new CheckWatchesRequest({ path: '/a', type: 2 }), null);
  await call('trigger-create', 'A', OpCode.create2, open('/w'), Create2Response);
  await events('event-created', 'B', 1);
  await call('addwatch-recursive', 'B', OpCode.addWatch, new AddWatchRequest({ path: '/a', mode: 1 }), null);
  await call('trigger-child', 'A', OpCode.create2, open('/a/x'), Create2Response);
  // B's recursive watch replaced its one-shot child watch on /a (one mode per watcher and path), so only NodeCreated comes.
  await events('event-child-and-recursive', 'B', 1);
  await call('removewatches-any', 'B', OpCode.removeWatches, new RemoveWatchesRequest({ path: '/a', type: 3 }), null);
  await call('removewatches-none', 'B', OpCode.removeWatches, new RemoveWatchesRequest({ path: '/a', type: 3 }), null);
  await call('ping', 'B', OpCode.ping, null, null, -2);

  // closeSession deletes A's ephemeral; B sees it gone.
  await call('close-session', 'A', OpCode.closeSession, null, null);
  await clients.A.waitFor(() => clients.A.closed);
  await call('ephemeral-gone', 'B', OpCode.exists, new ExistsRequest({ path: '/e', watch: false }), ExistsResponse);

  // SetWatches catch-up on a fresh connection.
  clients.C = await RawClient.connect(port, { timeOut: 30000, omitReadOnly: true });
  out.push({ step: 'connect-old-client', client: 'C', xid: 0, zxid: '', err: 0, body: `len=${clients.C.connectRaw!.length}` });
  const sw = new SetWatches({ relativeZxid: 2n, dataWatches: ['/a', '/gone'], existWatches: ['/p', '/never'], childWatches: ['/', '/m'] });
  await call('setwatches', 'C', OpCode.setWatches, sw, null, -8);
  const ev: string[] = [];
  for (let i = 0; i < 5; i++) {
    const e = await clients.C.event();
    ev.push(`${e.type}:${e.state}:${e.path}`);
  }
  out.push({ step: 'setwatches-events', client: 'C', xid: -1, zxid: '', err: 0, body: ev.sort().join(' ') });
  const raw = clients.C.drain();
  out.push({ step: 'setwatches-extra', client: 'C', xid: 0, zxid: '', err: 0, body: String(raw.length) });

  // Apache refuses a client that has seen a newer zxid than the server has.
  const D = await RawClient.connect(port, { lastZxidSeen: 1000000n });
  out.push({ step: 'zxid-ahead', client: 'D', xid: 0, zxid: '', err: 0, body: `closed=${D.closed} response=${D.connectRaw !== null}` });
  // A wrong password re-attach gets timeout 0 (expired) and a close.
  const E = await RawClient.connect(port, { sessionId: clients.B.connectResponse!.sessionId, passwd: Buffer.alloc(16, 7) });
  await E.waitFor(() => E.closed);
  out.push({ step: 'bad-password', client: 'E', xid: 0, zxid: '', err: 0, body: `timeout=${E.connectResponse!.timeOut} session=${E.connectResponse!.sessionId} pw=${E.connectResponse!.passwd!.toString('hex')}` });
  // Re-attach with the right password keeps the session.
  const F = await RawClient.connect(port, { sessionId: clients.B.connectResponse!.sessionId, passwd: clients.B.connectResponse!.passwd! });
  out.push({ step: 'reattach', client: 'F', xid: 0, zxid: '', err: 0, body: `timeout=${F.connectResponse!.timeOut} same=${F.connectResponse!.sessionId === clients.B.connectResponse!.sessionId}` });
  clients.F = F;
  await call('after-reattach', 'F', OpCode.exists, new ExistsRequest({ path: '/a', watch: false }), ExistsResponse);
  // AuthFailed for an unknown scheme, then the server closes the connection.
  await call('addauth-bad-scheme', 'F', OpCode.auth, new AuthPacket({ type: 0, scheme: 'nosuch', auth: Buffer.from('x') }), null, -4);
  await F.waitFor(() => F.closed);
  out.push({ step: 'authfailed-closes', client: 'F', xid: 0, zxid: '', err: 0, body: `closed=${F.closed}` });
  // Unknown opcode: Apache answers UNIMPLEMENTED with zxid -1 (and then drops the connection; we keep it, see the test).
  clients.G = await RawClient.connect(port);
  await call('unknown-op', 'G', 999, null, null);
  for (const c of Object.values(clients)) c.close();
  D.close();
  E.close();
  return out;
}

export function formatTranscript(lines: TranscriptLine[]): string {
  return lines.map((l) => `${l.step} ${l.client} xid=${l.xid} zxid=${l.zxid} err=${l.err} ${l.body}`).join('\n');
}

export { WatcherEvent };
