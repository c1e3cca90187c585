/**
 * java.util.Properties text, the format of zoo.cfg and of Java -D files.
 */
import { ConfigError } from './errors';

/**
 * Parses text with java.util.Properties.load rules: `#`/`!` comment lines,
 * `key=value`, `key:value` or `key value`, backslash line continuation
 * (leading whitespace of the next line dropped), escapes \t \n \r \f \uXXXX
 * and `\x` = x. Values keep trailing whitespace (callers trim, like Apache).
 * Later duplicates win.
 */
export function parseJavaProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const natural = text.split(/\r\n|\r|\n/);
  let i = 0;
  while (i < natural.length) {
    let line = natural[i++].replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // Join continuation lines: an odd number of trailing backslashes continues the line.
    while (endsWithOddBackslashes(line) && i < natural.length) {
      line = line.slice(0, -1) + natural[i++].replace(/^[ \t\f]+/, '');
    }
    if (endsWithOddBackslashes(line)) line = line.slice(0, -1);
    let k = 0;
    let keyEnd = -1;
    while (k < line.length) {
      const ch = line[k];
      if (ch === '\\') {
        k += 2;
        continue;
      }
      if (ch === '=' || ch === ':' || ch === ' ' || ch === '\t' || ch === '\f') {
        keyEnd = k;
        break;
      }
      k++;
    }
    if (keyEnd < 0) {
      out.set(unescapeProperty(line), '');
      continue;
    }
    const rawKey = line.slice(0, keyEnd);
    let v = keyEnd;
    while (v < line.length && /[ \t\f]/.test(line[v])) v++;
    if (v < line.length && (line[v] === '=' || line[v] === ':')) {
      v++;
      while (v < line.length && /[ \t\f]/.test(line[v])) v++;
    }
    out.set(unescapeProperty(rawKey), unescapeProperty(line.slice(v)));
  }
  return out;
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let j = s.length - 1; j >= 0 && s[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

function unescapeProperty(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let j = 0; j < s.length; j++) {
    const ch = s[j];
    if (ch !== '\\' || j + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[++j];
    switch (next) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = s.slice(j + 1, j + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ConfigError(`Malformed \\uxxxx encoding in "${s}"`);
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
        break;
      }
      default:
        out += next;
    }
  }
  return out;
}

