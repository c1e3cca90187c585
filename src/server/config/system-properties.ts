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

/** Splits a JVMFLAGS-style string into words, honouring single and double quotes; non -D words are ignored by callers. */
export function splitShellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let j = 0; j < s.length; j++) {
    const ch = s[j];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && j + 1 < s.length) cur += s[++j];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && j + 1 < s.length) {
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
  if (quote) throw new ConfigError(`unterminated quote in JVM flags: ${s}`);
  if (inWord) words.push(cur);
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

