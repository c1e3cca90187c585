import fc from 'fast-check';
import { JuteReader, JuteWriter, MalformedInputError, Record, TruncatedInputError, JuteError } from '../../../src/jute';
import * as proto from '../../../src/proto/generated';
import { parseJute } from '../../../codegen/parser';
import { JuteType, RecordDef } from '../../../codegen/model';
import * as fs from 'fs';
import * as path from 'path';
import { loadFrameFixtures } from './fixtures';

type RecordCtor = { new (): Record; juteName: string };
const classes = proto as unknown as { [name: string]: RecordCtor };

const model = parseJute(fs.readFileSync(path.join(__dirname, '../../../codegen/zookeeper.jute'), 'utf8'), 'zookeeper.jute');
const defs = new Map<string, RecordDef>();
for (const m of model.modules) for (const r of m.records) defs.set(r.name, r);

/** A fast-check arbitrary producing field values for a jute type. */
function arb(t: JuteType, depth = 0): fc.Arbitrary<unknown> {
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
          return fc.string({ unit: 'grapheme', maxLength: 20 });
        case 'buffer':
          return fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null });
      }
      break;
    case 'vector':
      return fc.array(arb(t.element, depth + 1), { maxLength: depth > 1 ? 1 : 4 });
    case 'record':
      return recordArb(t.name, depth + 1);
  }
  throw new Error('unreachable');
}

function recordArb(name: string, depth = 0): fc.Arbitrary<Record> {
  const def = defs.get(name)!;
  const shape: { [k: string]: fc.Arbitrary<unknown> } = {};
  for (const f of def.fields) shape[f.name] = arb(f.type, depth);
  return fc.record(shape).map((fields) => Object.assign(new classes[name](), fields));
}

function encode(r: Record): Buffer {
  const w = new JuteWriter(8);
  r.serialize(w);
  return w.toBuffer();
}

describe('generated records', () => {
  const names = [...defs.keys()];

  it('export one class per IDL record, each with its jute name', () => {
    for (const [name, def] of defs) {
      expect(classes[name]).toBeDefined();
      expect(classes[name].juteName).toBe(`${def.module}.${name}`);
    }
  });

  it.each(names)('%s round-trips any value, consuming exactly its bytes', (name) => {
    fc.assert(
      fc.property(recordArb(name), (rec) => {
        const bytes = encode(rec);
        const r = new JuteReader(bytes);
        const back = new classes[name]().deserialize(r);
        expect(r.remaining).toBe(0);
        expect(encode(back).equals(bytes)).toBe(true);
        expect(back).toEqual(rec);
      }),
      { numRuns: 60 },
    );
  });

  it.each(names.filter((n) => defs.get(n)!.fields.length > 0))('%s: every truncation is a typed error, never a crash', (name) => {
    fc.assert(
      fc.property(recordArb(name), (rec) => {
        const bytes = encode(rec);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(() => new classes[name]().deserialize(new JuteReader(bytes.subarray(0, cut)))).toThrow(JuteError);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('random garbage decodes to a record or a typed error, nothing else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.uint8Array({ maxLength: 200 }), (name, bytes) => {
        try {
          new classes[name]().deserialize(new JuteReader(Buffer.from(bytes)));
        } catch (e) {
          expect(e).toBeInstanceOf(JuteError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('wire encoding details', () => {
  it('writes longs as exact 64-bit big-endian (session ids use all bits)', () => {
    const w = new JuteWriter();
    w.writeLong(0x8000_0000_0000_0001n).writeLong(-1n);
    expect(w.toBuffer().toString('hex')).toBe('8000000000000001ffffffffffffffff');
    const r = new JuteReader(w.toBuffer());
    expect(r.readLong()).toBe(-0x7fff_ffff_ffff_ffffn);
    expect(r.readLong()).toBe(-1n);
  });

  it('encodes null buffers, strings and vectors as -1', () => {
    const w = new JuteWriter();
    w.writeBuffer(null).writeString(null).writeVector(null, () => undefined);
    expect(w.toBuffer().toString('hex')).toBe('ffffffff'.repeat(3));
    const r = new JuteReader(w.toBuffer());
    expect(r.readBuffer()).toBeNull();
    expect(r.readString()).toBeNull();
    expect(r.readVector((x) => x.readInt())).toBeNull();
  });

  it('encodes ustring as UTF-8 with a byte length', () => {
    const w = new JuteWriter();
    w.writeString('/ü日');
    expect(w.toBuffer().toString('hex')).toBe('00000006' + Buffer.from('/ü日', 'utf8').toString('hex'));
  });

  it('rejects a negative buffer length below -1', () => {
    const b = Buffer.from('fffffffe', 'hex');
    expect(() => new JuteReader(b).readBuffer()).toThrow(MalformedInputError);
  });

  it('rejects lengths and counts that run past the end without allocating them', () => {
    expect(() => new JuteReader(Buffer.from('7fffffff00', 'hex')).readBuffer()).toThrow(TruncatedInputError);
    expect(() => new JuteReader(Buffer.from('7fffffff00', 'hex')).readString()).toThrow(TruncatedInputError);
    expect(() => new JuteReader(Buffer.from('7fffffff00', 'hex')).readVector((r) => r.readInt())).toThrow(TruncatedInputError);
  });

  it('nests frames', () => {
    const w = new JuteWriter(4);
    w.beginFrame().writeInt(7).beginFrame().writeBool(true).endFrame().endFrame();
    expect(w.toBuffer().toString('hex')).toBe('00000009' + '00000007' + '00000001' + '01');
  });
});

describe('fixtures captured from Apache ZooKeeper 3.8', () => {
  const fixtures = loadFrameFixtures();
  it.each(fixtures.map((f) => [f.name, f] as const))('%s decodes completely and re-encodes to the same bytes', (_n, f) => {
    const r = new JuteReader(f.payload);
    const w = new JuteWriter();
    for (const name of f.records) {
      const rec = new classes[name]().deserialize(r);
      rec.serialize(w);
    }
    expect(r.remaining).toBe(0);
    expect(w.toBuffer().equals(f.payload)).toBe(true);
  });

  it('the watch event precedes the setData reply and names the node', () => {
    const ev = fixtures.find((f) => f.name.startsWith('06-watch-event'))!;
    const r = new JuteReader(ev.payload);
    const hdr = new proto.ReplyHeader().deserialize(r);
    const we = new proto.WatcherEvent().deserialize(r);
    expect(hdr.xid).toBe(-1);
    expect(we).toMatchObject({ type: 3, state: 3, path: '/fixture' });
  });

  it('a NoNode reply has an error code and no body', () => {
    const f = fixtures.find((x) => x.name.startsWith('09-getdata-nonode-reply'))!;
    const r = new JuteReader(f.payload);
    const hdr = new proto.ReplyHeader().deserialize(r);
    expect(hdr.err).toBe(-101);
    expect(r.remaining).toBe(0);
  });
});
