import { FieldDef, JuteModel, JuteType, ModuleDef, PRIMITIVES, PrimitiveName, RecordDef, SourcePos, fullName } from './model';

/** A syntax or reference error in an IDL file, pointing at line and column. */
export class JuteParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = 'JuteParseError';
  }
}

type TokenKind = 'ident' | 'punct' | 'string' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  column: number;
  offset: number;
}

function tokenize(file: string, src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const fail = (msg: string): never => {
    throw new JuteParseError(file, line, col, msg);
  };
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advance(1);
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') advance(1);
    } else if (c === '/' && src[i + 1] === '*') {
      const startLine = line;
      const startCol = col;
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new JuteParseError(file, startLine, startCol, 'unterminated /* comment');
      advance(end + 2 - i);
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      const tl = line;
      const tc = col;
      while (i < src.length && /[A-Za-z0-9_.]/.test(src[i])) advance(1);
      tokens.push({ kind: 'ident', text: src.slice(start, i), line: tl, column: tc, offset: start });
    } else if ('{}<>;,'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, column: col, offset: i });
      advance(1);
    } else if (c === '"') {
      const tl = line;
      const tc = col;
      const start = i;
      advance(1);
      while (i < src.length && src[i] !== '"' && src[i] !== '\n') advance(1);
      if (src[i] !== '"') throw new JuteParseError(file, tl, tc, 'unterminated string');
      advance(1);
      tokens.push({ kind: 'string', text: src.slice(start + 1, i - 1), line: tl, column: tc, offset: start });
    } else {
      fail(`unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: 'eof', text: '<end of file>', line, column: col, offset: src.length });
  return tokens;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The text of a `//` comment that follows `from` on the same line (`long czxid;      // created zxid`), if any. */
function trailingComment(src: string, from: number): string | undefined {
  const eol = src.indexOf('\n', from);
  const m = /^[ \t]*\/\/[ \t]*(.*?)\s*$/.exec(src.slice(from, eol < 0 ? src.length : eol));
  return m && m[1] !== '' ? m[1] : undefined;
}

/**
 * Parses jute IDL text into a model. Grammar (Apache's subset we support):
 *   file   := module*
 *   module := 'module' dotted '{' record* '}'
 *   record := 'class' ident '{' field* '}'
 *   field  := type ident ';'
 *   type   := primitive | 'vector' '<' type '>' | dotted-or-simple record name
 * Record references resolve within the module first, then by full name.
 */
export function parseJute(src: string, file = '<input>'): JuteModel {
  const toks = tokenize(file, src);
  let p = 0;
  const peek = () => toks[p];
  const errAt = (t: Token, msg: string): never => {
    throw new JuteParseError(file, t.line, t.column, msg);
  };
  const expect = (text: string): Token => {
    const t = toks[p];
    if (t.text !== text || (t.kind !== 'punct' && t.kind !== 'ident')) errAt(t, `expected '${text}' but found '${t.text}'`);
    p++;
    return t;
  };
  const expectIdent = (what: string, dotted = false): Token => {
    const t = toks[p];
    if (t.kind !== 'ident') errAt(t, `expected ${what} but found '${t.text}'`);
    if (!dotted && !IDENT.test(t.text)) errAt(t, `${what} '${t.text}' must be a simple identifier`);
    if (dotted && !t.text.split('.').every((s) => IDENT.test(s))) errAt(t, `malformed name '${t.text}'`);
    p++;
    return t;
  };

  // Record references are resolved after parsing, so order of declaration does not matter.
  const unresolved: { type: Extract<JuteType, { kind: 'record' }>; tok: Token; module: string }[] = [];

  const parseType = (module: string): JuteType => {
    const t = expectIdent('a type', true);
    if ((PRIMITIVES as readonly string[]).includes(t.text)) return { kind: 'primitive', name: t.text as PrimitiveName };
    if (t.text === 'vector') {
      expect('<');
      const element = parseType(module);
      expect('>');
      return { kind: 'vector', element };
    }
    if (t.text === 'map') errAt(t, 'map<> is not supported by this generator');
    const type: Extract<JuteType, { kind: 'record' }> = { kind: 'record', name: t.text, module: '' };
    unresolved.push({ type, tok: t, module });
    return type;
  };

  const modules: ModuleDef[] = [];
  while (peek().kind !== 'eof') {
    const kw = peek();
    if (kw.kind === 'ident' && kw.text === 'include') {
      errAt(kw, "'include' is not supported: pass every module in one file");
    }
    if (kw.kind !== 'ident' || kw.text !== 'module') errAt(kw, `expected 'module' but found '${kw.text}'`);
    p++;
    const modName = expectIdent('a module name', true).text;
    expect('{');
    const mod: ModuleDef = modules.find((m) => m.name === modName) ?? { name: modName, records: [] };
    if (!modules.includes(mod)) modules.push(mod);
    while (peek().text !== '}') {
      const ck = peek();
      if (ck.kind === 'eof') errAt(ck, `unexpected end of file inside module '${modName}'`);
      if (ck.text !== 'class') errAt(ck, `expected 'class' or '}' but found '${ck.text}'`);
      p++;
      const nameTok = expectIdent('a class name');
      expect('{');
      const fields: FieldDef[] = [];
      while (peek().text !== '}') {
        if (peek().kind === 'eof') errAt(peek(), `unexpected end of file inside class '${nameTok.text}'`);
        const start = peek();
        const type = parseType(modName);
        const fname = expectIdent('a field name');
        const semi = expect(';');
        if (fields.some((f) => f.name === fname.text)) errAt(fname, `duplicate field '${fname.text}' in class '${nameTok.text}'`);
        const field: FieldDef = { name: fname.text, type, pos: { line: start.line, column: start.column } };
        const comment = trailingComment(src, semi.offset + 1);
        if (comment !== undefined) field.comment = comment;
        fields.push(field);
      }
      const close = expect('}');
      if (mod.records.some((r) => r.name === nameTok.text)) errAt(nameTok, `duplicate class '${nameTok.text}' in module '${modName}'`);
      mod.records.push({
        name: nameTok.text,
        module: modName,
        fields,
        source: src.slice(ck.offset, close.offset + 1),
        pos: { line: ck.line, column: ck.column },
      });
    }
    expect('}');
  }

  const byFull = new Map<string, RecordDef>();
  for (const m of modules) for (const r of m.records) byFull.set(fullName(r), r);
  for (const u of unresolved) {
    const local = byFull.get(`${u.module}.${u.type.name}`);
    const target = local ?? byFull.get(u.type.name);
    if (!target) errAt(u.tok, `unknown type '${u.type.name}'`);
    u.type.name = target!.name;
    u.type.module = target!.module;
  }
  return { file, modules };
}

export type { SourcePos };
