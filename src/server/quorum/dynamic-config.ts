/**
 * Dynamic reconfiguration's pure parts (Apache 3.8's QuorumPeerConfig
 * parseDynamicConfig / writeDynamicConfig / editStaticConfig, QuorumMaj's
 * Properties constructor, and the reconfig case of PrepRequestProcessor):
 *
 *  - `parseQuorumConfigText`: a QuorumVerifier from its text form (what a
 *    reconfig txn, NEWLEADER and election notifications carry);
 *  - `nextConfig`: the config a reconfig request asks for, incremental
 *    (joining / leaving) or bulk (newMembers), with Apache's answers for bad
 *    input (BadArguments, and MarshallingError where Java lets a
 *    NumberFormatException or IllegalArgumentException escape);
 *  - the files: `zoo.cfg.dynamic.<hexVersion>` (no version line),
 *    `zoo.cfg.dynamic.next` (with it) and the static file rewritten to point
 *    at the dynamic one.
 *
 * No I/O here; config-files.ts writes them.
 */
import { ErrorCode } from '../../proto/constants';
import { parseJavaProperties } from '../config/java-properties';
import { parseServerLine, versionFromFileName } from '../config/quorum-config';

export { versionFromFileName };
import { KeeperCodeError } from '../tree/keeper-error';
import { HierarchicalQuorum, MajorityQuorum, type QuorumServer, type QuorumVerifier } from './quorum-verifier';

/** A KeeperCodeError with Apache's message (the path field stays empty: a reconfig is about no path). */
function refuse(code: number, message: string): KeeperCodeError {
  const e = new KeeperCodeError(code);
  e.message = `${e.message}: ${message}`;
  return e;
}

/** One `server.N` value as a QuorumServer (Apache's `new QuorumServer(sid, value)`); throws ConfigError. */
export function quorumServerFromLine(sid: bigint, value: string): QuorumServer {
  const spec = parseServerLine(Number(sid), value.trim());
  const a = spec.addresses[0];
  return {
    sid,
    host: a.host,
    quorumPort: a.quorumPort,
    electionPort: a.electionPort,
    type: spec.role,
    clientAddress: spec.clientPort !== undefined ? `${spec.clientAddress}:${spec.clientPort}` : undefined,
  };
}

/** Java's Long.parseLong on a decimal sid: anything else is a NumberFormatException. */
function parseSid(text: string): bigint | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const v = BigInt(text);
  return v < -(1n << 63n) || v >= 1n << 63n ? null : v;
}

/** Long.parseLong(value, 16), or null. */
function parseHexLong(text: string): bigint | null {
  const t = text.trim();
  if (!/^[+-]?[0-9a-fA-F]{1,16}$/.test(t)) return null;
  const v = t.startsWith('-') ? -BigInt(`0x${t.slice(1)}`) : BigInt(`0x${t.replace(/^\+/, '')}`);
  return v < -(1n << 63n) || v >= 1n << 63n ? null : v;
}

/** Why a config text was refused: `config` is Apache's ConfigException, `format` a Java runtime exception. */
export class DynamicConfigError extends Error {
  constructor(
    readonly kind: 'config' | 'format',
    message: string,
  ) {
    super(message);
    this.name = 'DynamicConfigError';
  }
}

/**
 * QuorumPeerConfig.parseDynamicConfig over Properties text: `server.N`,
 * `group.N` / `weight.N` (hierarchical) and `version` (hex); other keys are
 * ignored, as QuorumMaj ignores them. Throws DynamicConfigError.
 */
export function parseQuorumConfigText(text: string, opts: { standaloneEnabled?: boolean } = {}): QuorumVerifier {
  const props = parseJavaProperties(text);
  const servers: QuorumServer[] = [];
  const groups = new Map<bigint, bigint[]>();
  const weights = new Map<bigint, number>();
  let version = 0n;
  let hierarchical = false;
  for (const [rawKey, value] of props) {
    const key = rawKey.trim();
    if (key.startsWith('group') || key.startsWith('weight')) hierarchical = true;
    if (key.startsWith('server.')) {
      const sid = parseSid(key.slice(key.indexOf('.') + 1));
      if (sid === null) throw new DynamicConfigError('format', `For input string: "${key.slice(key.indexOf('.') + 1)}"`);
      try {
        servers.push(quorumServerFromLine(sid, value));
      } catch (e) {
        throw new DynamicConfigError('config', (e as Error).message);
      }
    } else if (key === 'version') {
      const v = parseHexLong(value);
      if (v === null) throw new DynamicConfigError('format', `For input string: "${value}"`);
      version = v;
    } else if (key.startsWith('group.')) {
      const gid = parseSid(key.slice('group.'.length));
      const members = value.split(':').map((s) => parseSid(s.trim()));
      if (gid === null || members.some((m) => m === null)) throw new DynamicConfigError('format', `bad group line ${key}=${value}`);
      groups.set(gid, members as bigint[]);
    } else if (key.startsWith('weight.')) {
      const sid = parseSid(key.slice('weight.'.length));
      const w = Number(value.trim());
      if (sid === null || !Number.isInteger(w)) throw new DynamicConfigError('format', `bad weight line ${key}=${value}`);
      weights.set(sid, w);
    }
  }
  let qv: QuorumVerifier;
  try {
    qv = hierarchical ? new HierarchicalQuorum(servers, groups, weights, version) : new MajorityQuorum(servers, version);
  } catch (e) {
    throw new DynamicConfigError('config', (e as Error).message);
  }
  // parseDynamicConfig's sanity checks are IllegalArgumentExceptions.
  const voters = qv.voters().length;
  const observers = qv.servers.size - voters;
  const standalone = opts.standaloneEnabled ?? true;
  if (voters === 0 && observers > 0) throw new DynamicConfigError('format', 'Observers w/o participants is an invalid configuration');
  if (voters === 0 && !standalone) throw new DynamicConfigError('format', 'standaloneEnabled = false then number of participants should be >0');
  if (voters === 1 && standalone && observers > 0) throw new DynamicConfigError('format', 'Observers w/o quorum is an invalid configuration');
  return qv;
}

/** What a reconfig request carries (ReconfigRequest; null fields are absent). */
export interface ReconfigAsk {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
}

/** Apache's StringUtils.split: split, trim, drop empties. */
function splitTrim(s: string, sep: string): string[] {
  return s
    .split(sep)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function addressesOf(s: QuorumServer): string[] {
  const out = [`${s.host}:${s.quorumPort}`, `${s.host}:${s.electionPort}`];
  if (s.clientAddress !== undefined) out.push(s.clientAddress);
  return out;
}

/**
 * The config a reconfig asks for, at `version` (the reconfig's zxid), from
 * the last config seen. Throws KeeperCodeError as PrepRequestProcessor
 * answers: BadArguments for bad server strings, duplicate addresses, a
 * non-majority last config with an incremental request, fewer than two
 * voters (standaloneEnabled); MarshallingError where Java's own exception
 * escapes (a sid that is not a number, "Observers w/o participants").
 */
export function nextConfig(lastSeen: QuorumVerifier, ask: ReconfigAsk, version: bigint, opts: { standaloneEnabled?: boolean } = {}): QuorumVerifier {
  let qv: QuorumVerifier;
  if (ask.newMembers !== null) {
    try {
      qv = parseQuorumConfigText(ask.newMembers.replace(/,/g, '\n'), opts).withVersion(version);
    } catch (e) {
      if (e instanceof DynamicConfigError && e.kind === 'config') throw refuse(ErrorCode.BADARGUMENTS, e.message);
      throw refuse(ErrorCode.MARSHALLINGERROR, (e as Error).message);
    }
  } else {
    if (!(lastSeen instanceof MajorityQuorum)) {
      throw refuse(ErrorCode.BADARGUMENTS, 'Incremental reconfiguration requested but last configuration seen has a non-majority quorum system');
    }
    const next = new Map(lastSeen.servers);
    for (const leaving of ask.leavingServers !== null ? splitTrim(ask.leavingServers, ',') : []) {
      const sid = parseSid(leaving);
      if (sid === null) throw refuse(ErrorCode.MARSHALLINGERROR, `For input string: "${leaving}"`);
      next.delete(sid);
    }
    for (const joiner of ask.joiningServers !== null ? splitTrim(ask.joiningServers, ',') : []) {
      const parts = splitTrim(joiner, '=');
      if (parts.length !== 2) throw refuse(ErrorCode.BADARGUMENTS, 'Wrong format of server string');
      const sid = parseSid(parts[0].slice(parts[0].lastIndexOf('.') + 1));
      if (sid === null) throw refuse(ErrorCode.MARSHALLINGERROR, `For input string: "${parts[0]}"`);
      let qs: QuorumServer;
      try {
        qs = quorumServerFromLine(sid, parts[1]);
      } catch {
        throw refuse(ErrorCode.BADARGUMENTS, 'Reconfiguration failed');
      }
      if (qs.clientAddress === undefined) {
        throw refuse(ErrorCode.BADARGUMENTS, 'Wrong format of server string - each server should have 3 ports specified');
      }
      // QuorumServer.checkAddressDuplicate: none of its addresses may be another member's.
      const mine = addressesOf(qs);
      for (const other of next.values()) {
        if (other.sid === sid) continue;
        const theirs = new Set(addressesOf(other));
        const clash = mine.find((a) => theirs.has(a));
        if (clash !== undefined) throw refuse(ErrorCode.BADARGUMENTS, `Server address ${clash} of server.${sid} is already used by server.${other.sid}`);
      }
      next.delete(sid);
      next.set(sid, qs);
    }
    qv = new MajorityQuorum(next.values(), version);
  }
  const voters = qv.voters().length;
  if ((opts.standaloneEnabled ?? true) && voters < 2) {
    throw refuse(ErrorCode.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 2 followers');
  }
  if (voters < 1) throw refuse(ErrorCode.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 1 follower');
  return qv;
}

// ---- files ------------------------------------------------------------------

/** `<configFile>.dynamic.<hexVersion>` (QuorumPeer.makeDynamicConfigFilename). */
export function dynamicConfigFileName(configFile: string, version: bigint): string {
  return `${configFile}.dynamic.${BigInt.asUintN(64, version).toString(16)}`;
}

/** `<configFile>.dynamic.next`: the last config seen, proposed and not yet committed. */
export function nextDynamicConfigFileName(configFile: string): string {
  return `${configFile}.dynamic.next`;
}

/**
 * writeDynamicConfig: the config's `key=value` lines sorted as strings
 * (so server.10 sorts before server.2, as in Apache), joined by "\n" with
 * no newline at the end; the version line only for the `.next` file.
 */
export function dynamicConfigFileText(qv: QuorumVerifier, keepVersion: boolean): string {
  const lines: string[] = [];
  for (const [key, value] of parseJavaProperties(qv.toString())) {
    if (!keepVersion && key.trim().startsWith('version')) continue;
    lines.push(`${key.trim()}=${value.trim()}`);
  }
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return lines.join('\n');
}

/**
 * editStaticConfig: the static file without its membership (`server.*`,
 * `group*`, `weight*`, `peerType*`, an old `dynamicConfigFile`, and the
 * client port keys when the dynamic config now holds this server's client
 * address), then `dynamicConfigFile=<absolute path>`. Keys keep the file's
 * order (Apache writes Properties' hash order; nothing reads the order).
 */
export function editStaticConfigText(staticText: string, dynamicFile: string, eraseClientPortAddress: boolean): string {
  let out = '';
  for (const [rawKey, rawValue] of parseJavaProperties(staticText)) {
    const key = rawKey.trim();
    if (
      key.startsWith('server.') ||
      key.startsWith('group') ||
      key.startsWith('weight') ||
      key.startsWith('dynamicConfigFile') ||
      key.startsWith('peerType') ||
      (eraseClientPortAddress && (key.startsWith('clientPort') || key.startsWith('clientPortAddress')))
    ) {
      continue;
    }
    out += `${key}=${rawValue.trim()}\n`;
  }
  return `${out}dynamicConfigFile=${dynamicFile}\n`;
}
