/**
 * Reads the users of a JAAS login file's server section, the way Apache's
 * DigestLoginModule + SaslServerCallbackHandler use it:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_bob="secret"
 *     user_super="adminsecret";
 *   };
 *
 * Every `user_<name>="<password>"` option of the section defines one user.
 * The section name is `Server` unless zookeeper.sasl.serverconfig says otherwise.
 *
 * What Apache 3.8 does with the file (ServerCnxnFactory.configureSaslLogin,
 * checked against the real server): a file that parses but has no `Server`
 * section (an empty file, or one with only a `Client` section, as kazoo's
 * test harness passes) starts the server without SASL; a file that is
 * missing or does not parse stops start-up with "No JAAS configuration
 * section named 'Server' was found in '<file>'."
 */
import * as fs from 'node:fs';

export class JaasConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JaasConfigError';
  }
}

type Token = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

/** Splits JAAS text into words, "quoted strings" and the punctuation { } ; = (comments // and /* *\/ dropped). */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasConfigError(`line ${line}: unterminated comment`);
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
    } else if (ch === '"') {
      let s = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        if (text[j] === '\n') line++;
        s += text[j];
      }
      if (j >= text.length) throw new JaasConfigError(`line ${line}: unterminated quoted string`);
      out.push({ kind: 'string', text: s, line });
      i = j + 1;
    } else if ('{};='.includes(ch)) {
      out.push({ kind: 'punct', text: ch, line });
      i++;
    } else {
      const m = /^[A-Za-z0-9_$.*\-/:@]+/.exec(text.slice(i, i + 4096));
      if (!m) throw new JaasConfigError(`line ${line}: unexpected character '${ch}'`);
      out.push({ kind: 'word', text: m[0], line });
      i += m[0].length;
    }
  }
  return out;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

/**
 * Parses the whole file into section -> options of every login module entry.
 * Throws JaasConfigError when the text is not a JAAS login configuration
 * (`Name { module flag key=value ...; ... };` repeated).
 */
export function parseJaas(text: string): Map<string, Map<string, string>> {
  const toks = tokenize(text);
  let p = 0;
  const where = () => (p < toks.length ? `line ${toks[p].line}` : 'end of file');
  const expect = (what: string, ok: (t: Token) => boolean): Token => {
    const t = toks[p];
    if (!t || !ok(t)) throw new JaasConfigError(`${where()}: expected ${what}${t ? `, found '${t.text}'` : ''}`);
    p++;
    return t;
  };
  const isPunct = (c: string) => (t: Token) => t.kind === 'punct' && t.text === c;
  const sections = new Map<string, Map<string, string>>();
  while (p < toks.length) {
    const name = expect('a section name', (t) => t.kind === 'word').text;
    expect("'{'", isPunct('{'));
    const opts = sections.get(name) ?? new Map<string, string>();
    while (!(toks[p] && isPunct('}')(toks[p]))) {
      expect('a login module class name', (t) => t.kind === 'word');
      const flag = expect('a control flag (required, requisite, sufficient, optional)', (t) => t.kind === 'word');
      if (!FLAGS.has(flag.text.toLowerCase())) throw new JaasConfigError(`line ${flag.line}: invalid control flag '${flag.text}'`);
      while (!(toks[p] && isPunct(';')(toks[p]))) {
        const key = expect('an option name or ;', (t) => t.kind === 'word').text;
        expect("'='", isPunct('='));
        const value = expect('an option value', (t) => t.kind === 'word' || t.kind === 'string').text;
        opts.set(key, value);
      }
      p++; // the module's ';'
    }
    p++; // '}'
    expect("';' after '}'", isPunct(';'));
    sections.set(name, opts);
  }
  return sections;
}

/**
 * user name -> password from the server section; null when the file has no
 * such section (SASL is then unavailable, as on Apache). Throws
 * JaasConfigError when the file cannot be read or does not parse.
 */
export function loadJaasUsers(file: string, section = process.env['zookeeper.sasl.serverconfig'] ?? 'Server'): Map<string, string> | null {
  const apacheMessage = `No JAAS configuration section named '${section}' was found in '${file}'.`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new JaasConfigError(`${apacheMessage} (cannot read it: ${(e as Error).message})`);
  }
  let sections: Map<string, Map<string, string>>;
  try {
    sections = parseJaas(text);
  } catch (e) {
    throw new JaasConfigError(`${apacheMessage} (it is not a JAAS login configuration: ${(e as Error).message})`);
  }
  const opts = sections.get(section);
  if (!opts) return null;
  const users = new Map<string, string>();
  for (const [k, v] of opts) if (k.startsWith('user_')) users.set(k.slice(5), v);
  return users;
}
