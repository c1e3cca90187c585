/**
 * The numbers behind the four-letter words: request latency (receipt to
 * reply), packet counts, per-connection figures for cons/dump, crst/srst,
 * and the 4lw connection itself, checked against live traffic and against
 * the shapes of Apache 3.8's own output (test/unit/four-letter-words/fixtures).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CreateMode, Ids } from '../../../src';
import { CreateRequest, GetDataRequest, OpCode } from '../../../src/proto';
import { ZooKeeperServer } from '../../../src/server';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import type { TxnEntry } from '../../../src/server/persist/types';
import { RawClient } from './raw-client';

jest.setTimeout(30_000);

const FIXTURES = path.join(__dirname, '..', 'four-letter-words', 'fixtures', 'apache-3.8.0');

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => s.write(word));
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

/** A line's shape: numbers, hex and dates abstracted, so ours and Apache's can be compared. */
function shape(line: string): string {
  return line
    .replace(/[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}/g, 'DATE')
    .replace(/0x[0-9a-f]+/g, '0xH')
    .replace(/\/127\.0\.0\.1:\d+/g, '/IP:PORT')
    .replace(/\d+(\.\d+)?/g, 'N');
}

/** Delays appends while held, so a write's latency is known to be at least the hold. */
class SlowStore extends MemoryTxnStore {
  delayMs = 0;
  override async append(entries: TxnEntry[]): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.append(entries);
  }
}

describe('four-letter word figures', () => {
  let srv: ZooKeeperServer;
  let store: SlowStore;
  beforeEach(async () => {
    store = new SlowStore();
    srv = await ZooKeeperServer.start({ clientPort: 0, store, fourLetterWordWhitelist: '*', tickTime: 2000 });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('counts packets and latency from receipt to reply, per server and per connection', async () => {
    const c = await RawClient.connect(srv.clientPort);
    await c.call(OpCode.create, new CreateRequest({ path: '/a', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
    // 260 ms held, 250 asserted: a timer may fire up to a millisecond early against performance.now()'s whole-ms floor.
    store.delayMs = 260;
    const slow = await c.call(OpCode.create, new CreateRequest({ path: '/slow', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
    store.delayMs = 0;
    await c.call(OpCode.getData, new GetDataRequest({ path: '/a', watch: false }));

    const srvr = await fourLetter(srv.clientPort, 'srvr');
    const lat = /Latency min\/avg\/max: (\d+)\/([\d.]+)\/(\d+)/.exec(srvr)!;
    // createSession, two creates, a getData: four requests through the pipeline, one of them >= 250 ms.
    expect(Number(lat[3])).toBeGreaterThanOrEqual(250);
    expect(Number(lat[2])).toBeGreaterThanOrEqual(250 / 4);
    expect(Number(lat[1])).toBeLessThan(250);
    // Received: connect + 3 requests + this srvr; Sent: 4 replies (the srvr reply is counted once written).
    expect(srvr).toContain('Received: 5\n');
    expect(srvr).toContain('Sent: 4\n');
    // The connection asking is counted among the connections, like Apache.
    expect(srvr).toContain('Connections: 2\n');
    expect(srvr).toContain('Outstanding: 0\n');
    expect(srvr).toContain(`Zxid: 0x${slow.header.zxid.toString(16)}\n`);

    const cons = (await fourLetter(srv.clientPort, 'cons')).split('\n').filter((l) => l !== '');
    expect(cons).toHaveLength(2);
    const mine = cons.find((l) => l.includes(`sid=0x${c.connectResponse!.sessionId.toString(16)}`))!;
    expect(mine).toContain('[1](queued=0,recved=4,sent=4,');
    expect(mine).toContain(',lop=GETD,');
    expect(mine).toContain(',lcxid=0x3,');
    expect(mine).toContain(`,lzxid=0x${slow.header.zxid.toString(16)},`);
    const maxlat = Number(/maxlat=(\d+)/.exec(mine)![1]);
    expect(maxlat).toBeGreaterThanOrEqual(250);
    // The 4lw connection itself: not reading (interest ops 0), its word counted as one packet received.
    expect(cons.find((l) => !l.includes('sid='))).toMatch(/^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)$/);
    c.close();
  });

  it('crst and srst reset what Apache resets; cons lines then have Apache\'s shape', async () => {
    const a = await RawClient.connect(srv.clientPort);
    const b = await RawClient.connect(srv.clientPort);
    await a.call(OpCode.create, new CreateRequest({ path: '/eph', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: CreateMode.EPHEMERAL }));
    expect(await fourLetter(srv.clientPort, 'crst')).toBe('Connection stats reset.\n');
    let cons = (await fourLetter(srv.clientPort, 'cons')).split('\n').filter((l) => l.includes('sid='));
    for (const l of cons) expect(l).toMatch(/\(queued=0,recved=0,sent=0,sid=0x[0-9a-f]+,lop=NA,est=\d+,to=\d+,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\)$/);
    // After a ping each, the lines look exactly like Apache's fixture (which was taken after crst and pings).
    for (const c of [a, b]) {
      c.send(OpCode.ping, null, -2);
      await c.reply(-2);
    }
    cons = (await fourLetter(srv.clientPort, 'cons')).split('\n').filter((l) => l !== '');
    const apache = fs.readFileSync(path.join(FIXTURES, 'cons.txt'), 'utf8').split('\n').filter((l) => l !== '');
    expect(new Set(cons.map(shape))).toEqual(new Set(apache.map(shape)));

    expect(await fourLetter(srv.clientPort, 'srst')).toBe('Server stats reset.\n');
    const srvr = await fourLetter(srv.clientPort, 'srvr');
    expect(srvr).toContain('Latency min/avg/max: 0/0.0/0\n');
    // The srst reply was counted after the reset; then srvr itself.
    expect(srvr).toContain('Received: 1\nSent: 1\n');
    a.close();
    b.close();
  });

  it('dump lists sessions in expiry buckets, their ephemerals, and connections by expiry, like Apache', async () => {
    const a = await RawClient.connect(srv.clientPort, { timeOut: 10_000 });
    const b = await RawClient.connect(srv.clientPort, { timeOut: 10_000 });
    await a.call(OpCode.create, new CreateRequest({ path: '/eph', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: CreateMode.EPHEMERAL }));
    await a.call(OpCode.create, new CreateRequest({ path: '/a', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
    await a.call(OpCode.create, new CreateRequest({ path: '/a/e2', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: CreateMode.EPHEMERAL }));
    const dump = await fourLetter(srv.clientPort, 'dump');
    const sa = a.connectResponse!.sessionId.toString(16);
    const sb = b.connectResponse!.sessionId.toString(16);
    expect(dump).toContain(`Sessions with Ephemerals (1):\n0x${sa}:\n\t/eph\n\t/a/e2\n`);
    expect(dump).toMatch(new RegExp(`\\d expire at [^\\n]+:\\n(\\t0x[0-9a-f]+\\n)*\\t0x${sb}\\n`));
    // Connections: both sessions plus the 4lw connection (session 0x0, on the sessionless timeout).
    expect(dump).toMatch(/Connections Sets \(\d+\)\/\(3\):/);
    expect(dump).toContain('sessionId: 0x0\n');
    expect(dump).toContain(`sessionId: 0x${sa}\n`);
    // Every line has a shape Apache's dump also has.
    const apacheShapes = new Set(fs.readFileSync(path.join(FIXTURES, 'dump.txt'), 'utf8').split('\n').map(shape));
    for (const l of dump.split('\n')) expect(apacheShapes).toContain(shape(l));
    a.close();
    b.close();
  });

  it('stat lists clients briefly, and mntr reports response sizes and fsync figures', async () => {
    const c = await RawClient.connect(srv.clientPort);
    await c.call(OpCode.create, new CreateRequest({ path: '/m', data: Buffer.from('12345'), acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
    await c.call(OpCode.getData, new GetDataRequest({ path: '/m', watch: false }));
    const stat = await fourLetter(srv.clientPort, 'stat');
    const apacheStat = fs.readFileSync(path.join(FIXTURES, 'stat.txt'), 'utf8').split('\n').slice(1).map(shape);
    for (const l of stat.split('\n').slice(1)) expect(apacheStat).toContain(shape(l));
    const mntr = await fourLetter(srv.clientPort, 'mntr');
    // The getData reply: header (16) + data (4 + 5) + Stat (68) = 93 bytes; create's reply: 16 + 4 + 2 = 22.
    expect(mntr).toMatch(/^zk_last_client_response_size\t93$/m);
    expect(mntr).toMatch(/^zk_max_client_response_size\t93$/m);
    expect(mntr).toMatch(/^zk_min_client_response_size\t22$/m);
    expect(mntr).toMatch(/^zk_num_alive_connections\t2$/m);
    expect(mntr).toMatch(/^zk_open_file_descriptor_count\t\d+$/m);
    c.close();
  });
});
