/**
 * The quorum part of a configuration: `server.N` lines, the dynamic-config
 * text Apache writes (QuorumMaj.toString), and dataDir/myid.
 */
import * as path from 'path';
import { ConfigError } from './errors';
import { defaultReadFile, parsePort, splitHostAndPorts } from './values';

/** One `server.N=` line: host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]; `|` separates extra addresses. */
export interface QuorumServerSpec {
  id: number;
  /** One or more quorum/election address pairs (more than one only with zookeeper.multiAddress.enabled=true). */
  addresses: Array<{ host: string; quorumPort: number; electionPort: number }>;
  role: 'participant' | 'observer';
  /** The client address from the `;` part; undefined when the line has no client part. */
  clientAddress?: string;
  clientPort?: number;
}

/**
 * Parses the value of a `server.N` line.
 * @example parseServerLine(1, '127.0.0.1:2888:3888:participant;127.0.0.1:2181')
 */
export function parseServerLine(id: number, value: string, multiAddressEnabled = false): QuorumServerSpec {
  const key = `server.${id}`;
  const wrong = () =>
    new ConfigError(
      `${key}=${value} does not have the form server_config or server_config;client_config where ` +
        'server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port',
      key,
    );
  const semi = value.split(';');
  if (semi.length > 2) throw wrong();
  const serverPart = semi[0].trim();
  const clientPart = semi.length === 2 ? semi[1].trim() : undefined;
  const addrStrings = serverPart.split('|').map((a) => a.trim());
  if (addrStrings.length > 1 && !multiAddressEnabled) {
    throw new ConfigError(
      `Multiple address feature is disabled, but multiple addresses were specified for sid ${id} (set zookeeper.multiAddress.enabled=true)`,
      key,
    );
  }
  const addresses: QuorumServerSpec['addresses'] = [];
  let role: QuorumServerSpec['role'] | undefined;
  for (const a of addrStrings) {
    let parts: string[];
    try {
      parts = splitHostAndPorts(a);
    } catch {
      throw wrong();
    }
    if (parts.length < 2 || parts.length > 4 || parts[0] === '') throw wrong();
    if (parts.length === 2) throw new ConfigError(`Missing election port for server: ${id}`, key);
    const quorumPort = parsePort(key, parts[1]);
    const electionPort = parsePort(key, parts[2]);
    if (quorumPort === 0 || electionPort === 0) throw new ConfigError(`${key}: quorum and election ports must be non-zero`, key);
    if (quorumPort === electionPort) throw new ConfigError(`${key}: quorum port and election port must differ (${quorumPort})`, key);
    let thisRole: QuorumServerSpec['role'] = 'participant';
    if (parts.length === 4) {
      const t = parts[3].trim().toLowerCase();
      if (t === 'observer') thisRole = 'observer';
      else if (t === 'participant') thisRole = 'participant';
      else throw new ConfigError(`Unrecognised peertype: ${parts[3]}`, key);
    }
    if (role !== undefined && role !== thisRole) {
      throw new ConfigError(`Multiple addresses should have similar roles: ${role} vs ${thisRole}`, key);
    }
    role = thisRole;
    addresses.push({ host: parts[0], quorumPort, electionPort });
  }
  const spec: QuorumServerSpec = { id, addresses, role: role ?? 'participant' };
  if (clientPart !== undefined) {
    let parts: string[];
    try {
      parts = splitHostAndPorts(clientPart);
    } catch {
      throw wrong();
    }
    if (parts.length === 1) {
      spec.clientAddress = '0.0.0.0';
      spec.clientPort = parsePort(key, parts[0]);
    } else if (parts.length === 2) {
      spec.clientAddress = parts[0];
      spec.clientPort = parsePort(key, parts[1]);
    } else {
      throw wrong();
    }
  }
  return spec;
}

/** Formats a host for the dynamic config: IPv6 literals in brackets. */
function delimitedHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The dynamic-config text Apache serves in /zookeeper/config and prints in
 * `conf` (QuorumMaj.toString): one "server.N=..." line per member, then
 * "version=<hex>".
 */
export function formatDynamicConfig(servers: readonly QuorumServerSpec[], version: bigint | number = 0): string {
  let out = '';
  for (const s of [...servers].sort((a, b) => a.id - b.id)) {
    const addrs = s.addresses.map((a) => `${delimitedHost(a.host)}:${a.quorumPort}:${a.electionPort}`).join('|');
    out += `server.${s.id}=${addrs}:${s.role}`;
    if (s.clientPort !== undefined) out += `;${delimitedHost(s.clientAddress ?? '0.0.0.0')}:${s.clientPort}`;
    out += '\n';
  }
  return out + `version=${BigInt.asUintN(64, BigInt(version)).toString(16)}`;
}

/**
 * The version a dynamic config file's name carries (QuorumPeerConfig.getVersionFromFilename:
 * the hex after the last dot, "zoo.cfg.dynamic.100000000"), or undefined.
 */
export function versionFromFileName(file: string): bigint | undefined {
  const i = file.lastIndexOf('.');
  if (i < 0) return undefined;
  const t = file.slice(i + 1);
  if (!/^[0-9a-fA-F]{1,16}$/.test(t)) return undefined;
  return BigInt.asIntN(64, BigInt(`0x${t}`));
}

/** Reads dataDir/myid: first line, trimmed, a number (Apache: "serverid X is not a number"). */
export function readMyid(dataDir: string, readFile: (f: string) => string | null = defaultReadFile): number {
  const file = path.join(dataDir, 'myid');
  const text = readFile(file);
  if (text === null) throw new ConfigError(`${file} file is missing`, 'myid');
  const first = text.split(/\r?\n/)[0].trim();
  if (!/^\d+$/.test(first)) throw new ConfigError(`serverid ${first} is not a number`, 'myid');
  return Number(first);
}

/** Refuses two members with the same quorum or election address. */
export function checkDuplicateAddresses(servers: QuorumServerSpec[]): void {
  const seen = new Map<string, string>();
  for (const s of servers) {
    for (const a of s.addresses) {
      for (const [what, port] of [
        ['address', a.quorumPort],
        ['election address', a.electionPort],
      ] as const) {
        // Wildcard hosts are allowed to repeat only when ports differ; same host:port twice is a conflict.
        const k = `${a.host}:${port}`;
        const prev = seen.get(k);
        if (prev !== undefined) {
          throw new ConfigError(`${what} ${k} of server.${s.id} conflicts with ${prev}`, `server.${s.id}`);
        }
        seen.set(k, `${what} of server.${s.id}`);
      }
    }
  }
}
