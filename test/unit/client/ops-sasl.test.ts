import { JuteReader, JuteWriter } from '../../../src/jute';
import { CreateMode, OpCode } from '../../../src/proto/constants';
import {
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  MultiHeader,
  SetDataRequest,
  CheckVersionRequest,
  Create2Response,
  Stat,
  ErrorResponse,
} from '../../../src/proto/generated';
import { Op, checkOps, multiFailure, readMultiResponse, writeMulti } from '../../../src/client/ops';
import { BadArgumentsError, InvalidACLError, NoNodeError } from '../../../src/client/errors';
import { DigestMd5Client, digestMd5Response, parseDirectives } from '../../../src/client/sasl/digest-md5';
import { batchSetWatches } from '../../../src/client/connection';

describe('multi encoding', () => {
  it('writes MultiHeader + record per op, chroot applied, and an end marker', () => {
    const ops = [
      Op.create('/a', 'x', { mode: CreateMode.EPHEMERAL }),
      Op.create('/t', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 500 }),
      Op.create('/c', null, { mode: CreateMode.CONTAINER }),
      Op.setData('/a', Buffer.from('y'), 3),
      Op.check('/a', 4),
      Op.delete('/a'),
    ];
    const w = new JuteWriter();
    writeMulti(w, ops, (p) => '/root' + p);
    const r = new JuteReader(w.toBuffer());
    const h1 = MultiHeader.decode(r);
    expect([h1.type, h1.done, h1.err]).toEqual([OpCode.create2, false, -1]);
    const c1 = CreateRequest.decode(r);
    expect([c1.path, c1.data?.toString(), c1.flags]).toEqual(['/root/a', 'x', CreateMode.EPHEMERAL]);
    expect(MultiHeader.decode(r).type).toBe(OpCode.createTTL);
    const t = CreateTTLRequest.decode(r);
    expect([t.path, t.ttl, t.flags]).toEqual(['/root/t', 500n, CreateMode.PERSISTENT_WITH_TTL]);
    expect(MultiHeader.decode(r).type).toBe(OpCode.createContainer);
    expect(CreateRequest.decode(r).flags).toBe(CreateMode.CONTAINER);
    expect(MultiHeader.decode(r).type).toBe(OpCode.setData);
    expect(SetDataRequest.decode(r).version).toBe(3);
    expect(MultiHeader.decode(r).type).toBe(OpCode.check);
    expect(CheckVersionRequest.decode(r).version).toBe(4);
    expect(MultiHeader.decode(r).type).toBe(OpCode.delete);
    expect(DeleteRequest.decode(r)).toMatchObject({ path: '/root/a', version: -1 });
    const end = MultiHeader.decode(r);
    expect([end.type, end.done, end.err]).toEqual([-1, true, -1]);
    expect(r.remaining).toBe(0);
  });

  it('validates ops before anything is sent', () => {
    expect(() => checkOps([Op.getData('/a')], false)).toThrow(BadArgumentsError);
    expect(() => checkOps([Op.delete('/a')], true)).toThrow(BadArgumentsError);
    expect(() => checkOps([Op.delete('bad')], false)).toThrow(BadArgumentsError);
    expect(() => checkOps([Op.create('/a', null, { acl: [] })], false)).toThrow(InvalidACLError);
    expect(() => checkOps([Op.create('/a', null, { mode: CreateMode.PERSISTENT_WITH_TTL })], false)).toThrow(BadArgumentsError);
    expect(() => checkOps([Op.create('/a', null, { ttl: 5 })], false)).toThrow(BadArgumentsError);
    expect(() => checkOps([Op.create('/a-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })], false)).not.toThrow();
  });

  it('decodes results and turns a failed multi into the failing op error', () => {
    const w = new JuteWriter();
    const stat = new Stat({ version: 7 });
    new MultiHeader({ type: OpCode.create2, done: false, err: 0 }).serialize(w);
    new Create2Response({ path: '/root/a', stat }).serialize(w);
    new MultiHeader({ type: OpCode.delete, done: false, err: 0 }).serialize(w);
    new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
    const ok = readMultiResponse(new JuteReader(w.toBuffer()), [Op.create('/a'), Op.delete('/b')], (p) => p.slice(5));
    expect(ok).toEqual([{ type: 'create', path: '/a', stat }, { type: 'delete' }]);
    expect(multiFailure(ok, [])).toBeNull();

    const f = new JuteWriter();
    for (const err of [0, -101, -2]) {
      new MultiHeader({ type: -1, done: false, err }).serialize(f);
      new ErrorResponse({ err }).serialize(f);
    }
    new MultiHeader({ type: -1, done: true, err: -1 }).serialize(f);
    const ops = [Op.create('/a'), Op.delete('/missing'), Op.setData('/a', 'x')];
    const results = readMultiResponse(new JuteReader(f.toBuffer()), ops, (p) => p);
    const err = multiFailure(results, ops)!;
    expect(err).toBeInstanceOf(NoNodeError);
    expect(err.opIndex).toBe(1);
    expect(err.path).toBe('/missing');
    expect(err.results).toHaveLength(3);
    expect(err.message).toContain('multi op #1');
  });
});

describe('SASL DIGEST-MD5', () => {
  it('matches the RFC 2831 example (section 4)', () => {
    const v = digestMd5Response({
      username: 'chris',
      realm: 'elwood.innosoft.com',
      password: 'secret',
      nonce: 'OA6MG9tEQGm2hh',
      cnonce: 'OA6MHXh6VqTrRk',
      nc: '00000001',
      qop: 'auth',
      digestUri: 'imap/elwood.innosoft.com',
      utf8: true,
    });
    expect(v).toEqual({ response: 'd388dad90d4bbd760a152321f2143af7', rspauth: 'ea40f60335c427b5527b84dbabcdfffd' });
  });

  it('parses quoted directives with escapes', () => {
    const d = parseDirectives('realm="zk-sasl-md5",nonce="a\\"b,c",qop="auth",charset=utf-8,algorithm=md5-sess');
    expect(d.get('nonce')).toBe('a"b,c');
    expect(d.get('charset')).toBe('utf-8');
  });

  it('runs the exchange as ZooKeeper does and checks rspauth', () => {
    const client = new DigestMd5Client({ username: 'bob', password: 'pw', cnonce: 'CN' });
    expect(client.initialResponse().length).toBe(0);
    const challenge = 'realm="zk-sasl-md5",nonce="NONCE",qop="auth",charset=utf-8,algorithm=md5-sess';
    const resp = client.evaluateChallenge(Buffer.from(challenge))!.toString();
    const d = parseDirectives(resp);
    expect(d.get('digest-uri')).toBe('zookeeper/zk-sasl-md5');
    expect(d.get('username')).toBe('bob');
    expect(d.get('realm')).toBe('zk-sasl-md5');
    const expected = digestMd5Response({
      username: 'bob', realm: 'zk-sasl-md5', password: 'pw', nonce: 'NONCE', cnonce: 'CN', nc: '00000001',
      qop: 'auth', digestUri: 'zookeeper/zk-sasl-md5', utf8: true,
    });
    expect(d.get('response')).toBe(expected.response);
    expect(client.isComplete).toBe(false);
    expect(() => new DigestMd5Client({ username: 'bob', password: 'pw', cnonce: 'CN' }).evaluateChallenge(Buffer.from('nonce="x",algorithm=md5'))).toThrow();
    const wrong = new DigestMd5Client({ username: 'bob', password: 'pw', cnonce: 'CN' });
    wrong.evaluateChallenge(Buffer.from(challenge));
    expect(() => wrong.evaluateChallenge(Buffer.from('rspauth=00000000000000000000000000000000'))).toThrow(/rspauth/);
    expect(client.evaluateChallenge(Buffer.from(`rspauth=${expected.rspauth}`))).toBeNull();
    expect(client.isComplete).toBe(true);
  });
});

describe('SetWatches batching', () => {
  it('splits so each packet carries at most 128 KB of paths, keeping each path in its list', () => {
    const long = (i: number) => '/' + String(i).padStart(6, '0') + 'x'.repeat(993); // 1000 bytes
    const data = Array.from({ length: 300 }, (_, i) => long(i));
    const child = ['/c1', '/c2'];
    const rec = ['/r'];
    const batches = batchSetWatches([
      [data, 0],
      [[], 1],
      [child, 2],
      [[], 3],
      [rec, 4],
    ]);
    expect(batches.length).toBe(3);
    for (const b of batches) {
      const bytes = b.flat().reduce((n, p) => n + Buffer.byteLength(p), 0);
      expect(bytes).toBeLessThanOrEqual(128 * 1024);
    }
    expect(batches.flatMap((b) => b[0])).toEqual(data);
    expect(batches.flatMap((b) => b[2])).toEqual(child);
    expect(batches[2][4]).toEqual(rec);
    expect(batchSetWatches([[[], 0]])).toEqual([]);
  });
});
