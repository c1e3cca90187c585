/**
 * What the TypeScript emitter makes of nested records and longs: Fields
 * interfaces typed as plain data, constructors that turn plain objects
 * into records (Record.from), and a toJSON only where a record holds longs.
 */
import { emitTypeScript } from '../../../codegen/emit-ts';
import { parseJute } from '../../../codegen/parser';

const IDL = `
module a.one {
  class P { int n; ustring s; }
  class Q { P p; vector<P> ps; vector<vector<P>> nested; long big; vector<long> bigs; }
}
module a.two {
  class R { a.one.P p; int n; }
}
`;

function emitted(): Map<string, string> {
  const files = emitTypeScript(parseJute(IDL, 'x.jute'), { runtimeImport: '../jute', sourceName: 'x.jute' });
  return new Map(files.map((f) => [f.name, f.content]));
}

describe('emitter: plain data and JSON', () => {
  const out = emitted();
  const one = out.get('one.ts')!;
  const two = out.get('two.ts')!;

  it('types nested record fields of the Fields interface as plain data', () => {
    expect(one).toContain('export interface QFields {\n  p: PFields;\n  ps: PFields[];\n  nested: PFields[][];\n  big: bigint;\n  bigs: bigint[];\n}');
    // The class keeps record types for what it holds.
    expect(one).toContain('  p: P = new P();');
    expect(one).toContain('  ps: P[] = [];');
  });

  it('turns plain objects into records in the constructor, at any vector depth', () => {
    expect(one).toContain('if (init.p !== undefined) this.p = P.from(init.p);');
    expect(one).toContain('if (init.ps !== undefined) this.ps = init.ps.map((e0) => P.from(e0));');
    expect(one).toContain('if (init.nested !== undefined) this.nested = init.nested.map((e0) => e0.map((e1) => P.from(e1)));');
    expect(one).toContain('if (init.big !== undefined) this.big = init.big;');
    expect(one).toContain('static from(v: PFields): P {\n    return v instanceof P ? v : new P(v);\n  }');
  });

  it('emits toJSON with longs as strings only for records that hold longs', () => {
    expect(one).toContain('big: this.big.toString(),');
    expect(one).toContain('bigs: this.bigs.map((e0) => e0.toString()),');
    expect(one.match(/toJSON\(\)/g)).toHaveLength(1);
    expect(two).not.toContain('toJSON');
  });

  it('imports a record and its Fields interface from another module', () => {
    expect(two).toContain("import { P, PFields } from './one';");
    expect(two).toContain('  p: PFields;');
  });
});
