/**
 * zoo.cfg read the way Apache ZooKeeper 3.8's QuorumPeerConfig reads it, so
 * an existing zoo.cfg works unchanged with our server.
 *
 * - zoo.cfg is a java.util.Properties file (see java-properties.ts).
 * - Keys we know are typed and validated; a bad value throws ConfigError
 *   naming the key. Unknown keys are returned as warnings, never fatal.
 * - Like Apache, a zoo.cfg key we do not model as a field becomes the system
 *   property `zookeeper.<key>` (so `extendedTypesEnabled=true` or
 *   `forceSync=no` in zoo.cfg work as they do for Apache), and zoo.cfg wins
 *   over a -D flag for the same property, because Apache calls
 *   System.setProperty after the JVM flags were applied.
 * - System properties come from `-Dkey=value` flags and from the JVMFLAGS and
 *   SERVER_JVMFLAGS environment variables (system-properties.ts).
 */
import * as path from 'path';
import { parseFourLetterWhitelist } from '../net/four-letter-words';
import type { SslOptions } from '../net/tls-options';
import { DEFAULT_SNAPSHOT_SIZE_FACTOR } from '../persist/file-store';
import { ConfigError } from './errors';
import { parseJavaProperties } from './java-properties';
import { checkDuplicateAddresses, parseServerLine, QuorumServerSpec, readMyid, versionFromFileName } from './quorum-config';
import { defaultReadFile, parseBool, parseIntStrict, parsePort, parseYesNo } from './values';

/**
 * TLS settings (Apache's ssl.* keys, also settable as zookeeper.ssl.*
 * properties): the server's SslOptions, with the defaults filled in.
 */
export type SslConfig = SslOptions & Required<Pick<SslOptions, 'clientAuth' | 'hostnameVerification'>>;

/** The parsed and validated configuration of one server. */
export interface ZooCfg {
  /** Absolute path of the file this came from, when read from a file. */
  configFile?: string;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  dataLogDir: string;
  /** undefined when not set (Apache's clientPort=0 also means "not set"). */
  clientPort?: number;
  clientPortAddress?: string;
  secureClientPort?: number;
  secureClientPortAddress?: string;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  clientPortListenBacklog: number;
  autopurge: { snapRetainCount: number; purgeIntervalHours: number };
  /** Enabled four-letter words (srvr always; isro when read-only mode is on). */
  fourLetterWordWhitelist: Set<string>;
  snapCount: number;
  /** zookeeper.snapshotSizeFactor: a leader sends a learner older than its committed log the txn log instead of a snapshot while that is smaller than this times the snapshot; < 0: never. */
  snapshotSizeFactor: number;
  /** Max frame / znode data size in bytes. */
  juteMaxBuffer: number;
  /** Txn log preallocation block, in bytes (zoo.cfg and zookeeper.preAllocSize are in KB). */
  preAllocSize: number;
  /** False only with zookeeper.forceSync=no (testing only: acks without fsync). */
  forceSync: boolean;
  /** Bound on requests queued in the server (zookeeper.globalOutstandingLimit). */
  globalOutstandingLimit: number;
  extendedTypesEnabled: boolean;
  readOnlyModeEnabled: boolean;
  /** "user:base64(sha1(user:password))" from zookeeper.DigestAuthenticationProvider.superDigest. */
  superDigest?: string;
  /** JAAS file for SASL (java.security.auth.login.config). */
  jaasConfigFile?: string;
  /** authProvider.N entries (class names), kept for reference; our server implements digest/ip/sasl/x509 itself. */
  authProviders: Map<string, string>;
  ssl: SslConfig;
  standaloneEnabled: boolean;
  reconfigEnabled: boolean;
  /** zookeeper.enforceQuota: writes over a /zookeeper/quota limit fail with QuotaExceeded (default false). */
  enforceQuota: boolean;
  peerType: 'participant' | 'observer';
  electionAlg: number;
  electionPortBindRetry: number;
  quorumListenOnAllIPs: boolean;
  dynamicConfigFile?: string;
  /** The config version: the hex suffix of dynamicConfigFile's name (Apache's getVersionFromFilename), else 0. */
  configVersion: bigint;
  /** server.N lines, sorted by id. */
  servers: QuorumServerSpec[];
  /** myid; 0 for a standalone server (Apache's serverId for standalone). */
  serverId: number;
  /** True when this server runs standalone (no server.N lines, or one participant with standaloneEnabled). */
  standalone: boolean;
  /** Every system property in effect (flags, environment, zoo.cfg-derived zookeeper.* keys). */
  systemProperties: Record<string, string>;
  /** Non-fatal problems: unknown keys, relative paths, adjusted values. */
  warnings: string[];
}

/** Options for parseZooCfg. */
export interface ParseZooCfgOptions {
  /** System properties (see systemPropertiesFrom); default none. */
  systemProperties?: Record<string, string>;
  /** Path of the config file, used for messages and to resolve dynamicConfigFile. */
  configFile?: string;
  /** Reads a file as text or returns null when absent (myid, dynamicConfigFile); default fs. */
  readFile?: (file: string) => string | null;
  /** Base for relative paths; default process.cwd() (Apache resolves against the working directory). */
  cwd?: string;
}

/** System properties our server honours (beyond those derived from typed zoo.cfg keys). */
const KNOWN_SYSTEM_PROPERTIES = new Set([
  'zookeeper.extendedTypesEnabled',
  'readonlymode.enabled',
  'zookeeper.snapCount',
  'zookeeper.snapshotSizeFactor',
  'jute.maxbuffer',
  'zookeeper.jute.maxbuffer',
  'zookeeper.preAllocSize',
  'zookeeper.forceSync',
  'zookeeper.globalOutstandingLimit',
  'zookeeper.DigestAuthenticationProvider.superDigest',
  'java.security.auth.login.config',
  'zookeeper.4lw.commands.whitelist',
  'zookeeper.electionPortBindRetry',
  'zookeeper.multiAddress.enabled',
  'zookeeper.enforceQuota',
]);

/**
 * Apache settings our server does not implement. Each is accepted quietly
 * when its value asks for what our server does anyway, and warned about
 * (on the console, like unknown keys) otherwise, so nobody believes a
 * setting took effect when nothing reads it.
 */
const UNIMPLEMENTED_SETTINGS: ReadonlyArray<{ property: string; quietWhen: (v: string) => boolean; why: string }> = [
  { property: 'zookeeper.skipACL', quietWhen: (v) => v.toLowerCase() === 'no', why: 'this server always checks ACLs' },
  {
    property: 'zookeeper.emulate353TTLNodes',
    quietWhen: (v) => v.toLowerCase() === 'false',
    why: 'TTL nodes always use the 3.5.4+ ephemeralOwner encoding',
  },
  {
    property: 'zookeeper.maxCnxns',
    quietWhen: (v) => /^\s*0\s*$/.test(v),
    why: 'the total number of connections is not limited (maxClientCnxns, per client address, is)',
  },
  {
    property: 'zookeeper.serverCnxnFactory',
    quietWhen: () => false,
    why: 'the connection factory is a Java class; this server has one Node.js implementation',
  },
  { property: 'zookeeper.admin.enableServer', quietWhen: (v) => v.toLowerCase() === 'false', why: 'this server has no admin server' },
];

/** The warnings for UNIMPLEMENTED_SETTINGS present in the system properties. */
function unimplementedSettingWarnings(sys: Record<string, string>): string[] {
  const out: string[] = [];
  for (const s of UNIMPLEMENTED_SETTINGS) {
    const v = sys[s.property];
    if (v !== undefined && !s.quietWhen(v.trim())) out.push(`${s.property}=${v.trim()} is not implemented by this server; ignored (${s.why})`);
  }
  return out;
}

/** Properties that configure things outside the server proper (logging, JMX, admin server) or are handled by prefix. */
const QUIET_PROPERTY_PREFIXES = [
  'zookeeper.ssl.',
  'zookeeper.authProvider.',
  'zookeeper.admin.',
  'zookeeper.log.',
  'zookeeper.root.logger',
  'zookeeper.jmx.',
  'log4j.',
  'com.sun.management.',
];

/** zoo.cfg keys (without the zookeeper. prefix) that only set a system property and are meaningful to us. */
const PROPERTY_KEYS_FROM_CFG = new Set([
  'extendedTypesEnabled',
  'emulate353TTLNodes',
  'forceSync',
  'globalOutstandingLimit',
  'electionPortBindRetry',
  // Warned by value (see UNIMPLEMENTED_SETTINGS), not as unknown keys.
  'skipACL',
  'serverCnxnFactory',
  'maxCnxns',
  'multiAddress.enabled',
  'enforceQuota',
  '4lw.commands.whitelist',
  'snapCount',
  'snapshotSizeFactor',
  'preAllocSize',
  'jute.maxbuffer',
  'DigestAuthenticationProvider.superDigest',
]);

/** Apache's admin server keys: we have no admin server, so these are ignored quietly. */
const KNOWN_ADMIN_KEYS = new Set([
  'admin.enableServer',
  'admin.serverAddress',
  'admin.serverPort',
  'admin.idleTimeout',
  'admin.commandURL',
  'admin.portUnification',
  'admin.forceHttps',
  'admin.needClientAuth',
  'admin.httpVersion',
  'admin.restrictedCommands',
  'admin.snapshot.enabled',
  'admin.snapshot.intervalInMS',
]);

/** Apache keys we parse for compatibility but whose feature our server does not have (warned once). */
const ACCEPTED_UNSUPPORTED_KEYS = new Set([
  'localSessionsEnabled',
  'localSessionsUpgradingEnabled',
  'syncEnabled',
  'connectToLearnerMasterLimit',
  'observerMasterPort',
  'portUnification',
  'sslQuorum',
  'sslQuorumReloadCertFiles',
  'client.portUnification',
  'quorum.auth.enableSasl',
  'quorum.auth.serverRequireSasl',
  'quorum.auth.learnerRequireSasl',
  'quorum.auth.learner.saslLoginContext',
  'quorum.auth.server.saslLoginContext',
  'quorum.auth.kerberos.servicePrincipal',
  'quorum.cnxn.threads.size',
  'jvm.pause.info-threshold.ms',
  'jvm.pause.warn-threshold.ms',
  'jvm.pause.sleep.time.ms',
  'jvm.pause.monitor',
  'multiAddress.reachabilityCheckTimeoutMs',
  'multiAddress.reachabilityCheckEnabled',
  'oraclePath',
]);

const SSL_KEYS: Record<string, keyof SslConfig> = {
  'ssl.keyStore.location': 'keyStoreLocation',
  'ssl.keyStore.password': 'keyStorePassword',
  'ssl.keyStore.type': 'keyStoreType',
  'ssl.trustStore.location': 'trustStoreLocation',
  'ssl.trustStore.password': 'trustStorePassword',
  'ssl.trustStore.type': 'trustStoreType',
  'ssl.clientAuth': 'clientAuth',
  'ssl.enabledProtocols': 'enabledProtocols',
  'ssl.protocol': 'protocol',
  'ssl.ciphersuites': 'ciphersuites',
  'ssl.hostnameVerification': 'hostnameVerification',
};

/**
 * Parses zoo.cfg text into a validated ZooCfg. Reads `myid` from dataDir (and
 * dynamicConfigFile when set) through `options.readFile`.
 */
export function parseZooCfg(text: string, options: ParseZooCfgOptions = {}): ZooCfg {
  const readFile = options.readFile ?? defaultReadFile;
  const cwd = options.cwd ?? process.cwd();
  const props = parseJavaProperties(text);
  const warnings: string[] = [];
  const sys: Record<string, string> = { ...(options.systemProperties ?? {}) };
  const where = options.configFile ? ` in ${options.configFile}` : '';

  let tickTime = 3000;
  let initLimit = 0;
  let syncLimit = 0;
  let dataDir: string | undefined;
  let dataLogDir: string | undefined;
  let clientPort = 0;
  let clientPortAddress: string | undefined;
  let secureClientPort = 0;
  let secureClientPortAddress: string | undefined;
  let maxClientCnxns = 60;
  let minSessionTimeout = -1;
  let maxSessionTimeout = -1;
  let clientPortListenBacklog = -1;
  let snapRetainCount = 3;
  let purgeInterval = 0;
  let standaloneEnabled = true;
  let reconfigEnabled = false;
  let peerType: 'participant' | 'observer' = 'participant';
  let peerTypeSet = false;
  let electionAlg = 3;
  let quorumListenOnAllIPs = false;
  let dynamicConfigFile: string | undefined;
  const authProviders = new Map<string, string>();
  const serverLines = new Map<number, string>();
  const sslCfg: Record<string, string> = {};

  const resolvePath = (p: string) => (path.isAbsolute(p) ? p : path.resolve(cwd, p));

  for (const [key, raw] of props) {
    const value = raw.trim();
    if (key.startsWith('server.')) {
      const idText = key.slice('server.'.length);
      if (!/^\d+$/.test(idText)) throw new ConfigError(`Invalid server id in ${key}: must be a non-negative integer`, key);
      serverLines.set(parseIntStrict(key, idText, 0, Number.MAX_SAFE_INTEGER), value);
      continue;
    }
    if (key.startsWith('group.') || key.startsWith('weight.')) {
      // Hierarchical quorums: Apache supports them; ours uses simple majorities.
      warnings.push(`${key}${where}: hierarchical quorums are not supported; ignored (simple majority is used)`);
      continue;
    }
    if (key.startsWith('authProvider.')) {
      authProviders.set(key.slice('authProvider.'.length), value);
      sys[`zookeeper.${key}`] = value;
      continue;
    }
    if (key.startsWith('metricsProvider.')) continue; // no pluggable metrics provider; ignored quietly
    if (key.startsWith('admin.')) {
      if (!KNOWN_ADMIN_KEYS.has(key)) warnings.push(`unknown admin key ${key}${where}; ignored (no admin server)`);
      // Apache turns it into zookeeper.admin.enableServer; warned below unless false.
      if (key === 'admin.enableServer') sys[`zookeeper.${key}`] = value;
      continue;
    }
    if (key.startsWith('ssl.')) {
      if (!(key in SSL_KEYS) && !key.startsWith('ssl.quorum.')) warnings.push(`unknown TLS key ${key}${where}; ignored`);
      sslCfg[key] = value;
      continue;
    }
    switch (key) {
      case 'tickTime':
        tickTime = parseIntStrict(key, value);
        break;
      case 'initLimit':
        initLimit = parseIntStrict(key, value, 0);
        break;
      case 'syncLimit':
        syncLimit = parseIntStrict(key, value, 0);
        break;
      case 'dataDir':
        dataDir = value;
        break;
      case 'dataLogDir':
        dataLogDir = value;
        break;
      case 'clientPort':
        clientPort = parsePort(key, value);
        break;
      case 'clientPortAddress':
        clientPortAddress = value;
        break;
      case 'secureClientPort':
        secureClientPort = parsePort(key, value);
        break;
      case 'secureClientPortAddress':
        secureClientPortAddress = value;
        break;
      case 'maxClientCnxns':
        maxClientCnxns = parseIntStrict(key, value, 0);
        break;
      case 'minSessionTimeout':
        minSessionTimeout = parseIntStrict(key, value);
        break;
      case 'maxSessionTimeout':
        maxSessionTimeout = parseIntStrict(key, value);
        break;
      case 'clientPortListenBacklog':
        clientPortListenBacklog = parseIntStrict(key, value);
        break;
      case 'autopurge.snapRetainCount':
        snapRetainCount = parseIntStrict(key, value);
        break;
      case 'autopurge.purgeInterval':
        purgeInterval = parseIntStrict(key, value);
        break;
      case 'standaloneEnabled':
        standaloneEnabled = parseBool(key, value);
        break;
      case 'reconfigEnabled':
        reconfigEnabled = parseBool(key, value);
        break;
      case 'peerType': {
        const t = value.toLowerCase();
        if (t !== 'observer' && t !== 'participant') throw new ConfigError(`Unrecognised peertype: ${value}`, key);
        peerType = t;
        peerTypeSet = true;
        break;
      }
      case 'electionAlg':
        electionAlg = parseIntStrict(key, value);
        if (electionAlg !== 3) throw new ConfigError('Invalid electionAlg value. Only 3 is supported.', key);
        break;
      case 'quorumListenOnAllIPs':
        quorumListenOnAllIPs = parseBool(key, value);
        break;
      case 'dynamicConfigFile':
        dynamicConfigFile = value;
        break;
      case 'preAllocSize':
      case 'snapCount':
      case 'jute.maxbuffer':
        // Typed below from the system property, so -D and zoo.cfg share one validation path.
        sys[key === 'jute.maxbuffer' ? 'jute.maxbuffer' : `zookeeper.${key}`] = value;
        break;
      default:
        if (ACCEPTED_UNSUPPORTED_KEYS.has(key)) {
          warnings.push(`${key}${where} is not supported by this server; ignored`);
        } else if (!PROPERTY_KEYS_FROM_CFG.has(key)) {
          warnings.push(`unknown key ${key}${where}; ignored`);
        }
        // Apache turns every other key into the system property zookeeper.<key>.
        sys[`zookeeper.${key}`] = value;
    }
  }

  warnings.push(...unimplementedSettingWarnings(sys));
  for (const k of Object.keys(options.systemProperties ?? {})) {
    if (UNIMPLEMENTED_SETTINGS.some((s) => s.property === k)) continue;
    if (!KNOWN_SYSTEM_PROPERTIES.has(k) && !QUIET_PROPERTY_PREFIXES.some((p) => k.startsWith(p))) {
      // Not fatal: JVMFLAGS often carries -Xmx-style neighbours' -D flags meant for the JVM or log4j.
      warnings.push(`system property ${k} is not used by this server`);
    }
  }

  // dataDir is required; relative paths resolve against the working directory, as in Apache.
  if (dataDir === undefined || dataDir === '') throw new ConfigError(`dataDir is not set${where}`, 'dataDir');
  if (!path.isAbsolute(dataDir)) warnings.push(`dataDir ${dataDir} is relative; resolved against ${cwd}`);
  const absDataDir = resolvePath(dataDir);
  const absDataLogDir = dataLogDir ? resolvePath(dataLogDir) : absDataDir;
  if (dataLogDir && !path.isAbsolute(dataLogDir)) warnings.push(`dataLogDir ${dataLogDir} is relative; resolved against ${cwd}`);

  if (tickTime <= 0) throw new ConfigError(tickTime === 0 ? 'tickTime is not set' : 'tickTime must be positive', 'tickTime');
  if (minSessionTimeout === -1) minSessionTimeout = tickTime * 2;
  if (maxSessionTimeout === -1) maxSessionTimeout = tickTime * 20;
  if (minSessionTimeout <= 0) throw new ConfigError('minSessionTimeout must be positive', 'minSessionTimeout');
  if (maxSessionTimeout <= 0) throw new ConfigError('maxSessionTimeout must be positive', 'maxSessionTimeout');
  if (minSessionTimeout > maxSessionTimeout) {
    throw new ConfigError('minSessionTimeout must not be larger than maxSessionTimeout', 'minSessionTimeout');
  }
  if (clientPortAddress !== undefined && clientPort === 0) {
    throw new ConfigError('clientPortAddress is set but clientPort is not set', 'clientPortAddress');
  }
  if (secureClientPortAddress !== undefined && secureClientPort === 0) {
    throw new ConfigError('secureClientPortAddress is set but secureClientPort is not set', 'secureClientPortAddress');
  }
  if (snapRetainCount < 3) {
    warnings.push(`Invalid autopurge.snapRetainCount: ${snapRetainCount}. Defaulting to 3`);
    snapRetainCount = 3;
  }
  if (purgeInterval < 0) purgeInterval = 0; // Apache: a non-positive interval disables purging

  // Typed system properties (zoo.cfg-derived entries were written into sys above).
  const snapCount = sys['zookeeper.snapCount'] !== undefined ? parseIntStrict('snapCount', sys['zookeeper.snapCount'].trim(), 2) : 100000;
  const snapshotSizeFactor = parseSnapshotSizeFactor(sys['zookeeper.snapshotSizeFactor'], warnings);
  const juteRaw = sys['jute.maxbuffer'] ?? sys['zookeeper.jute.maxbuffer'];
  const juteMaxBuffer = juteRaw !== undefined ? parseJuteMaxBuffer(juteRaw.trim()) : 0xfffff;
  const preAllocKb =
    sys['zookeeper.preAllocSize'] !== undefined ? parseIntStrict('preAllocSize', sys['zookeeper.preAllocSize'].trim(), 1) : 65536;
  const forceSync = sys['zookeeper.forceSync'] !== undefined ? parseYesNo('forceSync', sys['zookeeper.forceSync'].trim()) : true;
  const globalOutstandingLimit =
    sys['zookeeper.globalOutstandingLimit'] !== undefined
      ? parseIntStrict('globalOutstandingLimit', sys['zookeeper.globalOutstandingLimit'].trim(), 1)
      : 1000;
  const extendedTypesEnabled =
    sys['zookeeper.extendedTypesEnabled'] !== undefined
      ? parseBool('zookeeper.extendedTypesEnabled', sys['zookeeper.extendedTypesEnabled'].trim())
      : false;
  const readOnlyModeEnabled =
    sys['readonlymode.enabled'] !== undefined ? parseBool('readonlymode.enabled', sys['readonlymode.enabled'].trim()) : false;
  const electionPortBindRetry =
    sys['zookeeper.electionPortBindRetry'] !== undefined
      ? parseIntStrict('electionPortBindRetry', sys['zookeeper.electionPortBindRetry'].trim(), 0)
      : 3;
  const multiAddressEnabled =
    sys['zookeeper.multiAddress.enabled'] !== undefined
      ? parseBool('multiAddress.enabled', sys['zookeeper.multiAddress.enabled'].trim())
      : false;
  const superDigest = sys['zookeeper.DigestAuthenticationProvider.superDigest'];
  if (superDigest !== undefined && !/^[^:]+:[A-Za-z0-9+/=]+$/.test(superDigest.trim())) {
    throw new ConfigError(
      'Invalid value for zookeeper.DigestAuthenticationProvider.superDigest: expected user:base64(sha1(user:password))',
      'zookeeper.DigestAuthenticationProvider.superDigest',
    );
  }
  // Apache reads it with Boolean.parseBoolean: anything but "true" (any case) is false.
  const enforceQuota = (sys['zookeeper.enforceQuota'] ?? '').trim().toLowerCase() === 'true';
  const jaasConfigFile = sys['java.security.auth.login.config'];
  const fourLetterWordWhitelist = parseFourLetterWhitelist(sys['zookeeper.4lw.commands.whitelist'], readOnlyModeEnabled);

  const ssl = buildSsl(sslCfg, sys);

  // Ensemble membership: server.N lines, from zoo.cfg or the dynamic config file.
  if (dynamicConfigFile !== undefined) {
    if (serverLines.size > 0) {
      const first = [...serverLines.keys()][0];
      throw new ConfigError(`parameter: server.${first} must be in a separate dynamic config file`, `server.${first}`);
    }
    const dynPath = path.isAbsolute(dynamicConfigFile)
      ? dynamicConfigFile
      : path.resolve(options.configFile ? path.dirname(options.configFile) : cwd, dynamicConfigFile);
    const dynText = readFile(dynPath);
    if (dynText === null) throw new ConfigError(`dynamicConfigFile ${dynPath} does not exist`, 'dynamicConfigFile');
    for (const [key, raw] of parseJavaProperties(dynText)) {
      if (key.startsWith('server.')) {
        const idText = key.slice('server.'.length);
        if (!/^\d+$/.test(idText)) throw new ConfigError(`Invalid server id in ${key}: must be a non-negative integer`, key);
        serverLines.set(Number(idText), raw.trim());
      } else if (key === 'version') {
        throw new ConfigError("dynamic file shouldn't have version inside", 'dynamicConfigFile');
      } else if (!key.startsWith('group.') && !key.startsWith('weight.')) {
        warnings.push(`unknown key ${key} in dynamic config file ${dynPath}; ignored`);
      }
    }
    dynamicConfigFile = dynPath;
  }
  const servers = [...serverLines.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, v]) => parseServerLine(id, v, multiAddressEnabled));
  checkDuplicateAddresses(servers);

  const voters = servers.filter((s) => s.role === 'participant');
  const observers = servers.filter((s) => s.role === 'observer');
  let standalone = true;
  let serverId = 0;
  if (servers.length > 0) {
    if (voters.length === 0) {
      throw new ConfigError(
        observers.length > 0 ? 'Observers w/o participants is an invalid configuration' : 'no participants in server list',
        `server.${servers[0].id}`,
      );
    }
    if (voters.length === 1 && standaloneEnabled) {
      if (observers.length > 0) throw new ConfigError('Observers w/o quorum is an invalid configuration', `server.${observers[0].id}`);
      warnings.push('Invalid configuration, only one server specified (ignoring)');
    } else {
      standalone = false;
      if (voters.length === 2) warnings.push('No server failure will be tolerated. You need at least 3 servers.');
      else if (voters.length % 2 === 0) warnings.push('Non-optimal configuration, consider an odd number of servers.');
    }
  }

  /** A quorum member whose myid the server list does not hold (see below). */
  let outsideServerList = false;
  if (!standalone) {
    if (initLimit === 0) throw new ConfigError('initLimit is not set', 'initLimit');
    if (syncLimit === 0) throw new ConfigError('syncLimit is not set', 'syncLimit');
    serverId = readMyid(absDataDir, readFile);
    // A myid the list does not hold is no config error (QuorumPeerConfig.setupMyId does not check):
    // the peer refuses to start with it (Apache's QuorumPeer.start, "My id N not in the peer list"),
    // which is what a joiner restarted before a reconfig added it, or a removed server restarted,
    // runs into; `stop` and `status` can still read its config. Its role is then participant
    // (setupPeerType: the servers list decides).
    const me = servers.find((s) => s.id === serverId);
    outsideServerList = me === undefined;
    const role = me?.role ?? 'participant';
    if (peerTypeSet && peerType !== role) {
      warnings.push(`Peer type from servers list (${role}) doesn't match peerType (${peerType}). Defaulting to servers list.`);
    }
    peerType = role;
    // Apache takes the client port from this server's line when the static config gives none, and
    // refuses a conflict between the two.
    if (me?.clientPort !== undefined) {
      if (clientPort !== 0 && clientPort !== me.clientPort) {
        throw new ConfigError(
          `client port for this server (id = ${serverId}) in static config file is ${clientPort} ` +
            `which is different from client port found in dynamic file: ${me.clientPort}`,
          'clientPort',
        );
      }
      clientPort = me.clientPort;
      if (clientPortAddress === undefined && me.clientAddress !== undefined && me.clientAddress !== '0.0.0.0') {
        clientPortAddress = me.clientAddress;
      }
    }
  }

  // A removed server's rewritten zoo.cfg has no client port left (its line carried the client address,
  // so the rewrite dropped the keys): Apache reads a quorum member's config without one, and the
  // peer then refuses to start it (above); `stop` must still read it.
  if (clientPort === 0 && secureClientPort === 0 && !outsideServerList) {
    throw new ConfigError(`clientPort is not set${where} (set clientPort or secureClientPort)`, 'clientPort');
  }

  return {
    configFile: options.configFile,
    tickTime,
    initLimit,
    syncLimit,
    dataDir: absDataDir,
    dataLogDir: absDataLogDir,
    clientPort: clientPort === 0 ? undefined : clientPort,
    clientPortAddress,
    secureClientPort: secureClientPort === 0 ? undefined : secureClientPort,
    secureClientPortAddress,
    maxClientCnxns,
    minSessionTimeout,
    maxSessionTimeout,
    clientPortListenBacklog,
    autopurge: { snapRetainCount, purgeIntervalHours: purgeInterval },
    fourLetterWordWhitelist,
    snapCount,
    snapshotSizeFactor,
    juteMaxBuffer,
    preAllocSize: preAllocKb * 1024,
    forceSync,
    globalOutstandingLimit,
    extendedTypesEnabled,
    readOnlyModeEnabled,
    superDigest: superDigest?.trim(),
    jaasConfigFile: jaasConfigFile ? resolvePath(jaasConfigFile.trim()) : undefined,
    authProviders,
    ssl,
    standaloneEnabled,
    reconfigEnabled,
    enforceQuota,
    peerType,
    electionAlg,
    electionPortBindRetry,
    quorumListenOnAllIPs,
    dynamicConfigFile,
    configVersion: dynamicConfigFile !== undefined ? (versionFromFileName(dynamicConfigFile) ?? 0n) : 0n,
    servers,
    serverId,
    standalone,
    systemProperties: sys,
    warnings,
  };
}

/**
 * zookeeper.snapshotSizeFactor as ZKDatabase reads it: a Java double; one
 * that does not parse, or is above 1, falls back to 0.33 (logged, not
 * fatal); below 0 turns syncing from the txn log off.
 */
function parseSnapshotSizeFactor(raw: string | undefined, warnings: string[]): number {
  if (raw === undefined) return DEFAULT_SNAPSHOT_SIZE_FACTOR;
  const v = raw.trim();
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(v) ? Number.parseFloat(v) : NaN;
  if (Number.isNaN(n) || n > 1) {
    warnings.push(`Invalid zookeeper.snapshotSizeFactor ${raw}; using the default ${DEFAULT_SNAPSHOT_SIZE_FACTOR}`);
    return DEFAULT_SNAPSHOT_SIZE_FACTOR;
  }
  return n;
}

/** Reads and parses a zoo.cfg file; ConfigError when it is missing. */
export function loadZooCfg(file: string, options: Omit<ParseZooCfgOptions, 'configFile'> = {}): ZooCfg {
  const abs = path.resolve(options.cwd ?? process.cwd(), file);
  const readFile = options.readFile ?? defaultReadFile;
  const text = readFile(abs);
  if (text === null) throw new ConfigError(`config file ${abs} does not exist`);
  return parseZooCfg(text, { ...options, configFile: abs });
}

function parseJuteMaxBuffer(value: string): number {
  // Apache reads jute.maxbuffer with Integer.decode, so 0x-prefixed hex works too.
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(value)) n = parseInt(value.slice(2), 16);
  else n = parseIntStrict('jute.maxbuffer', value);
  if (n <= 0 || n > 0x7fffffff) throw new ConfigError(`Invalid value for jute.maxbuffer: ${value} must be positive`, 'jute.maxbuffer');
  return n;
}

function buildSsl(cfg: Record<string, string>, sys: Record<string, string>): SslConfig {
  // zoo.cfg ssl.x and the system property zookeeper.ssl.x are the same setting; zoo.cfg wins (as in Apache).
  const get = (k: string): string | undefined => cfg[k] ?? sys[`zookeeper.${k}`];
  const list = (v: string | undefined) =>
    v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const clientAuthRaw = (get('ssl.clientAuth') ?? 'need').toLowerCase();
  if (clientAuthRaw !== 'need' && clientAuthRaw !== 'want' && clientAuthRaw !== 'none') {
    throw new ConfigError(`Invalid value for ssl.clientAuth: ${clientAuthRaw} (need, want or none)`, 'ssl.clientAuth');
  }
  const checkType = (k: string) => {
    const v = get(k);
    if (v !== undefined && !['PEM', 'PKCS12', 'JKS', 'BCFKS'].includes(v.toUpperCase())) {
      throw new ConfigError(`Invalid value for ${k}: ${v} (PEM, PKCS12 or JKS)`, k);
    }
    return v?.toUpperCase();
  };
  const hv = get('ssl.hostnameVerification');
  return {
    keyStoreLocation: get('ssl.keyStore.location'),
    keyStorePassword: get('ssl.keyStore.password'),
    keyStoreType: checkType('ssl.keyStore.type'),
    trustStoreLocation: get('ssl.trustStore.location'),
    trustStorePassword: get('ssl.trustStore.password'),
    trustStoreType: checkType('ssl.trustStore.type'),
    clientAuth: clientAuthRaw,
    enabledProtocols: list(get('ssl.enabledProtocols')),
    protocol: get('ssl.protocol'),
    ciphersuites: list(get('ssl.ciphersuites')),
    hostnameVerification: hv === undefined ? true : parseBool('ssl.hostnameVerification', hv),
  };
}
