import { JuteParseError, parseJute } from '../../../codegen/parser';

function parseError(src: string): JuteParseError {
  try {
    parseJute(src, 'bad.jute');
  } catch (e) {
    if (e instanceof JuteParseError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('jute IDL parser', () => {
  it('parses modules, records, primitives, vectors and nested record references', () => {
    const m = parseJute(
      `module a.b {
         class Inner { int x; }
         class Outer {
           long id; // comment
           /* block
              comment */
           vector<Inner> items;
           vector<vector<ustring>> grid;
           buffer blob;
           Inner one;
         }
       }
       module c { class UsesOther { a.b.Inner i; } }`,
      'ok.jute',
    );
    expect(m.modules.map((x) => x.name)).toEqual(['a.b', 'c']);
    const outer = m.modules[0].records[1];
    expect(outer.fields.map((f) => f.name)).toEqual(['id', 'items', 'grid', 'blob', 'one']);
    expect(outer.fields[1].type).toEqual({ kind: 'vector', element: { kind: 'record', name: 'Inner', module: 'a.b' } });
    expect(outer.fields[2].type).toEqual({ kind: 'vector', element: { kind: 'vector', element: { kind: 'primitive', name: 'ustring' } } });
    expect(m.modules[1].records[0].fields[0].type).toEqual({ kind: 'record', name: 'Inner', module: 'a.b' });
    expect(outer.source.startsWith('class Outer {')).toBe(true);
    expect(outer.pos).toEqual({ line: 3, column: 10 });
  });

  it('resolves references declared later in the file', () => {
    const m = parseJute('module m { class A { B b; } class B { int x; } }');
    expect(m.modules[0].records[0].fields[0].type).toEqual({ kind: 'record', name: 'B', module: 'm' });
  });

  it.each([
    ['module m { class A { int x } }', 1, 28, "expected ';' but found '}'"],
    ['module m { class A { intt x; } }', 1, 22, "unknown type 'intt'"],
    ['module m {\n  class A {\n    int x;\n    int x;\n  }\n}', 4, 9, "duplicate field 'x'"],
    ['module m { class A { int x; } class A { int y; } }', 1, 37, "duplicate class 'A'"],
    ['class A { int x; }', 1, 1, "expected 'module'"],
    ['module m { class A { vector<int x; } }', 1, 33, "expected '>'"],
    ['module m { class A { map<int,int> x; } }', 1, 22, 'map<> is not supported'],
    ['module m { class A { int x; }', 1, 30, "unexpected end of file inside module 'm'"],
    ['module m { class A { int $x; } }', 1, 26, "unexpected character '$'"],
    ['/* never closed', 1, 1, 'unterminated /* comment'],
    ['module m { class A.B { int x; } }', 1, 18, "class name 'A.B' must be a simple identifier"],
  ])('reports %j at line/column', (src, line, column, msg) => {
    const e = parseError(src);
    expect(e.line).toBe(line);
    expect(e.column).toBe(column);
    expect(e.message).toContain(msg);
    expect(e.message.startsWith(`bad.jute:${line}:${column}: `)).toBe(true);
  });
});
