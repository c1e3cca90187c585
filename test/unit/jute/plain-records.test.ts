/**
 * Generated records take plain data: a record built from plain objects
 * (nested records and vectors of records as `{ ... }` literals, as users
 * write ACLs) encodes exactly like one built from record instances, and
 * every record with longs has a JSON form (longs as decimal strings).
 * Regression: plain ACLs passed validation, then failed in the encoder with
 * "e0.serialize is not a function".
 */
import fc from 'fast-check';
import { JuteReader, JuteWriter, Record } from '../../../src/jute';
import * as proto from '../../../src/proto/generated';
import { ACL, Id, Stat, CreateRequest, SetACLRequest, GetACLResponse, SetWatches, TxnHeader } from '../../../src/proto/generated';
import { parseJute } from '../../../codegen/parser';
import { JuteType, RecordDef } from '../../../codegen/model';
import * as fs from 'fs';
import * as path from 'path';

type RecordCtor = { new (init?: object): Record; juteName: string; from(v: object): Record };
const classes = proto as unknown as { [name: string]: RecordCtor };
const model = parseJute(fs.readFileSync(path.join(__dirname, '../../../codegen/zookeeper.jute'), 'utf8'), 'zookeeper.jute');
const defs = new Map<string, RecordDef>();
for (const m of model.modules) for (const r of m.records) defs.set(r.name, r);

/** Plain-data values for a jute type: nested records as object literals. */
function plainArb(t: JuteType, depth = 0): fc.Arbitrary<unknown> {
  switch (t.kind) {
    case 'primitive':
      switch (t.name) {
        case 'byte':
          return fc.integer({ min: -128, max: 127 });
        case 'boolean':
          return fc.boolean();
        case 'int':
          return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
        case 'long':
          return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
        case 'float':
          return fc.float({ noNaN: true }).map((f) => Math.fround(f));
        case 'double':
          return fc.double({ noNaN: true });
        case 'ustring':
          return fc.string({ maxLength: 12 });
        case 'buffer':
          return fc.option(fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)), { nil: null });
      }
      break;
    case 'vector':
      return fc.array(plainArb(t.element, depth + 1), { maxLength: depth > 1 ? 1 : 3 });
    case 'record': {
      const def = defs.get(t.name)!;
      const shape: { [k: string]: fc.Arbitrary<unknown> } = {};
      for (const f of def.fields) shape[f.name] = plainArb(f.type, depth + 1);
      return fc.record(shape);
    }
  }
  throw new Error('unreachable');
}

/** The same value with every nested record built through its class, field by field (the old way). */
function toInstances(t: JuteType, v: unknown): unknown {
  if (t.kind === 'vector') return (v as unknown[]).map((e) => toInstances(t.element, e));
  if (t.kind !== 'record') return v;
  const def = defs.get(t.name)!;
  const rec = new classes[t.name]() as unknown as { [k: string]: unknown };
  for (const f of def.fields) rec[f.name] = toInstances(f.type, (v as { [k: string]: unknown })[f.name]);
  return rec;
}

function encode(r: Record): Buffer {
  const w = new JuteWriter(8);
  r.serialize(w);
  return w.toBuffer();
}

const withNested = [...defs.values()].filter((d) => d.fields.some((f) => f.type.kind === 'record' || (f.type.kind === 'vector' && f.type.element.kind === 'record')));

describe('records from plain data', () => {
  it('the regression: a CreateRequest and a SetACLRequest with plain-object ACLs encode', () => {
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const plain = encode(new CreateRequest({ path: '/a', data: null, acl, flags: 0 }));
    const records = encode(new CreateRequest({ path: '/a', data: null, acl: [new ACL({ perms: 31, id: new Id({ scheme: 'world', id: 'anyone' }) })], flags: 0 }));
    expect(plain.equals(records)).toBe(true);
    expect(() => encode(new SetACLRequest({ path: '/a', acl, version: -1 }))).not.toThrow();
    // The constructor made records of them, leaving the caller's objects alone.
    const req = new CreateRequest({ path: '/a', acl });
    expect(req.acl[0]).toBeInstanceOf(ACL);
    expect(req.acl[0].id).toBeInstanceOf(Id);
    expect(acl[0]).not.toBeInstanceOf(ACL);
  });

  it('Record.from returns a record as it is and copies plain data into a new one', () => {
    const a = new ACL({ perms: 1, id: new Id({ scheme: 'ip', id: '127.0.0.1' }) });
    expect(ACL.from(a)).toBe(a);
    const b = ACL.from({ perms: 1, id: { scheme: 'ip', id: '127.0.0.1' } });
    expect(b).toBeInstanceOf(ACL);
    expect(encode(b).equals(encode(a))).toBe(true);
  });

  it.each(withNested.map((d) => d.name))('%s: built from plain data, encodes like records built field by field', (name) => {
    const def = defs.get(name)!;
    const type: JuteType = { kind: 'record', name, module: def.module };
    fc.assert(
      fc.property(plainArb(type), (plain) => {
        const fromPlain = new classes[name](plain as object);
        const fromInstances = toInstances(type, plain) as Record;
        const bytes = encode(fromPlain);
        expect(bytes.equals(encode(fromInstances))).toBe(true);
        const back = new classes[name]().deserialize(new JuteReader(bytes));
        expect(encode(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe('JSON of records', () => {
  it('gives longs as decimal strings, nested records included', () => {
    const stat = new Stat({ czxid: -1n, mzxid: 2n ** 63n - 1n, ephemeralOwner: 0x1234_5678_9abc_def0n, version: 7 });
    const res = new GetACLResponse({ acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], stat });
    const json = JSON.parse(JSON.stringify(res));
    expect(json.stat.czxid).toBe('-1');
    expect(json.stat.mzxid).toBe('9223372036854775807');
    expect(BigInt(json.stat.ephemeralOwner)).toBe(0x1234_5678_9abc_def0n);
    expect(json.stat.version).toBe(7);
    expect(json.acl).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    expect(JSON.parse(JSON.stringify(new SetWatches({ relativeZxid: 5n, dataWatches: ['/a'] })))).toEqual({
      relativeZxid: '5',
      dataWatches: ['/a'],
      existWatches: [],
      childWatches: [],
    });
    expect(JSON.parse(JSON.stringify(new TxnHeader({ clientId: 1n, cxid: 2, zxid: 3n, time: 4n, type: 1 })))).toEqual({
      clientId: '1',
      cxid: 2,
      zxid: '3',
      time: '4',
      type: 1,
    });
  });

  it.each([...defs.keys()])('%s stringifies without throwing', (name) => {
    const def = defs.get(name)!;
    fc.assert(
      fc.property(plainArb({ kind: 'record', name, module: def.module }), (plain) => {
        const rec = new classes[name](plain as object);
        expect(() => JSON.stringify(rec)).not.toThrow();
      }),
      { numRuns: 10 },
    );
  });
});
