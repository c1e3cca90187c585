/**
 * Parses a ZooKeeper connect string: `host[:port][,host[:port]...][/chroot]`.
 * IPv6 hosts are bracketed (`[::1]:2181`). The port defaults to 2181, as in
 * the Java client's ConnectStringParser. The chroot is validated like any
 * path and normalized to '' when absent or '/'.
 */
import { pathProblem } from '../proto/path';
import { BadArgumentsError } from './errors';

/** One server of a connect string. */
export interface HostAddress {
  /** A host name or an IPv4/IPv6 address (IPv6 without brackets). */
  host: string;
  /** The client port (2181 when not given). */
  port: number;
}

/** A parsed connect string (see {@link parseConnectString}). */
export interface ConnectString {
  /** The servers, in the order given. */
  hosts: HostAddress[];
  /** '' for none; else an absolute path without a trailing slash. */
  chroot: string;
}

export const DEFAULT_CLIENT_PORT = 2181;

/** A DNS name or IPv4 address: letters, digits, '-', '_' and dots, starting with a letter, digit or '_'. */
const NAME_HOST = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** An IPv6 address, with an optional zone (`fe80::1%eth0`). */
const IPV6_HOST = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/** Parses `host[:port][,host[:port]...][/chroot]`; throws BadArgumentsError for anything that is not one. */
export function parseConnectString(input: string): ConnectString {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new BadArgumentsError('connect string is empty');
  }
  let hostPart = input.trim();
  let chroot = '';
  const slash = hostPart.indexOf('/');
  if (slash >= 0) {
    chroot = hostPart.slice(slash);
    hostPart = hostPart.slice(0, slash);
    if (chroot === '/') chroot = '';
    else {
      const problem = pathProblem(chroot);
      if (problem) throw new BadArgumentsError(`invalid chroot ${JSON.stringify(chroot)}: ${problem}`);
    }
  }
  const hosts: HostAddress[] = [];
  for (const raw of hostPart.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    hosts.push(parseHost(item));
  }
  if (hosts.length === 0) throw new BadArgumentsError(`connect string ${JSON.stringify(input)} names no host`);
  return { hosts, chroot };
}

function parseHost(item: string): HostAddress {
  let host: string;
  let portText: string | undefined;
  if (item.startsWith('[')) {
    const close = item.indexOf(']');
    if (close < 0) throw new BadArgumentsError(`unterminated IPv6 address in ${JSON.stringify(item)}`);
    host = item.slice(1, close);
    const rest = item.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new BadArgumentsError(`unexpected text after IPv6 address in ${JSON.stringify(item)}`);
      portText = rest.slice(1);
    }
  } else {
    const colon = item.lastIndexOf(':');
    if (colon >= 0 && item.indexOf(':') !== colon) {
      // Several colons and no brackets: a bare IPv6 address without a port.
      host = item;
    } else if (colon >= 0) {
      host = item.slice(0, colon);
      portText = item.slice(colon + 1);
    } else {
      host = item;
    }
  }
  if (host === '') throw new BadArgumentsError(`empty host in ${JSON.stringify(item)}`);
  if (!(host.includes(':') ? IPV6_HOST : NAME_HOST).test(host)) {
    throw new BadArgumentsError(`${JSON.stringify(item)} is not a host: expected host[:port][,host[:port]...][/chroot]`);
  }
  let port = DEFAULT_CLIENT_PORT;
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText)) throw new BadArgumentsError(`bad port in ${JSON.stringify(item)}`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new BadArgumentsError(`port out of range in ${JSON.stringify(item)}`);
  }
  return { host, port };
}

/** Adds the chroot to a client path (the path the server sees). */
export function toServerPath(chroot: string, clientPath: string): string {
  if (chroot === '') return clientPath;
  return clientPath === '/' ? chroot : chroot + clientPath;
}

/**
 * Strips the chroot from a server path. Paths outside the chroot (such as
 * /zookeeper/config, which getConfig reads unprefixed) come back unchanged.
 */
export function toClientPath(chroot: string, serverPath: string): string {
  if (chroot === '') return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.length > chroot.length && serverPath.startsWith(chroot) && serverPath.charCodeAt(chroot.length) === 47) {
    return serverPath.slice(chroot.length);
  }
  return serverPath;
}
