/**
 * System properties: `-Dkey=value` flags and the JVMFLAGS / SERVER_JVMFLAGS
 * environment variables of zkServer.sh, read as Apache's scripts pass them.
 */
import { ConfigError } from './errors';

/**
 * Splits `-Dkey=value` flags out of an argument list. `-Dkey` alone means "" (as in Java).
 * @example extractSystemPropertyFlags(['-Dzookeeper.snapCount=10', 'start']) // { properties: {...}, rest: ['start'] }
 */
export function extractSystemPropertyFlags(args: readonly string[]): { properties: Record<string, string>; rest: string[] } {
  const properties: Record<string, string> = {};
  const rest: string[] = [];
  for (const a of args) {
    if (a.startsWith('-D') && a.length > 2) {
      const eq = a.indexOf('=');
      if (eq < 0) properties[a.slice(2)] = '';
      else properties[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      rest.push(a);
    }
  }
  return { properties, rest };
}

/**
 * Splits a line into whitespace-separated words, honouring "double" and
 * 'single' quotes; with `escapes`, a backslash (outside single quotes)
 * takes the next character as it is, as a shell does. Null when a quote is
 * left open. Shared by JVMFLAGS parsing and the zk-cli command line.
 */
export function shellWords(s: string, escapes: boolean): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let j = 0; j < s.length; j++) {
    const ch = s[j];
    if (quote) {
      if (ch === quote) quote = null;
      else if (escapes && ch === '\\' && quote === '"' && j + 1 < s.length) cur += s[++j];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (escapes && ch === '\\' && j + 1 < s.length) {
      cur += s[++j];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) return null;
  if (inWord) words.push(cur);
  return words;
}

/** Splits a JVMFLAGS-style string into words (quotes and backslash escapes); non -D words are ignored by callers. */
export function splitShellWords(s: string): string[] {
  const words = shellWords(s, true);
  if (words === null) throw new ConfigError(`unterminated quote in JVM flags: ${s}`);
  return words;
}

/**
 * System properties in effect for a server started with `flags` (-D arguments)
 * in environment `env`. Later sources win, as on zkServer.sh's java command
 * line: SERVER_JVMFLAGS, then JVMFLAGS, then the explicit flags.
 */
export function systemPropertiesFrom(
  flags: Record<string, string> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const props: Record<string, string> = {};
  for (const name of ['SERVER_JVMFLAGS', 'JVMFLAGS']) {
    const v = env[name];
    if (!v) continue;
    Object.assign(props, extractSystemPropertyFlags(splitShellWords(v)).properties);
  }
  Object.assign(props, flags);
  return props;
}

