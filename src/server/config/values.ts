/**
 * Typed values of settings, parsed as Apache's Java code parses them, each
 * failure a ConfigError naming the key; and reading a file that may be absent.
 */
import * as fs from 'fs';
import { ConfigError } from './errors';

/** Parses an integer the way Java's Integer.parseInt does (no decimals, no trailing junk), naming the key on failure. */
export function parseIntStrict(key: string, value: string, min = -2147483648, max = 2147483647): number {
  if (!/^[+-]?\d+$/.test(value)) throw new ConfigError(`Invalid value for ${key}: "${value}" is not an integer`, key);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`Invalid value for ${key}: ${value} is out of range [${min}, ${max}]`, key);
  }
  return n;
}

export function parsePort(key: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new ConfigError(`Invalid value for ${key}: "${value}" is not a port number`, key);
  const n = Number(value);
  if (n < 0 || n > 65535) throw new ConfigError(`Invalid value for ${key}: port ${value} is out of range [0, 65535]`, key);
  return n;
}

export function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(`Invalid option ${value} for ${key}. Choose 'true' or 'false.'`, key);
}

/** Apache reads forceSync/skipACL as "yes"/"no". */
export function parseYesNo(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new ConfigError(`Invalid option ${value} for ${key}. Choose 'yes' or 'no'.`, key);
}

/** Splits "host:port" / "[v6]:port" / "port" into parts, like Apache's ConfigUtils.getHostAndPort. */
export function splitHostAndPorts(s: string): string[] {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new ConfigError(`${s} starts with '[' but has no matching ']'`);
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return [host];
    if (!rest.startsWith(':')) throw new ConfigError(`${s} does not have a colon after ']'`);
    return [host, ...rest.slice(1).split(':')];
  }
  return s.split(':');
}

/** The file's text, or null when it does not exist. */
export function defaultReadFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
