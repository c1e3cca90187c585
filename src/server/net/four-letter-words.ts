/**
 * Four-letter words ("4lw"): the admin commands a client can send as the
 * first four bytes of a client-port connection instead of a ConnectRequest
 * (`printf srvr | nc host 2181`). Apache ZooKeeper answers with plain text
 * and closes the connection.
 *
 * This module is pure formatting: it never touches a socket. The client-port
 * server detects a word with `fourLetterWordFromHeader`, builds a
 * `FourLetterContext` over its live state, calls `runFourLetterWord`, writes
 * the reply and ends the connection.
 *
 * Formats were captured from Apache ZooKeeper 3.8.0 (Debian package) and are
 * matched line by line, because monitoring tools (zkServer.sh status, the
 * Prometheus/Datadog exporters, Curator's tests) parse them.
 */
import * as os from 'os';

/** The words Apache 3.8 knows. A known word outside the whitelist gets a refusal text; any other 4 bytes are a frame length. */
export const FOUR_LETTER_WORDS = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'srst', 'srvr', 'stat',
  'wchc', 'wchp', 'wchs', 'mntr', 'isro',
] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

const KNOWN = new Set<string>(FOUR_LETTER_WORDS);

/** Apache's reply to most words while the server is not serving (starting, shutting down, a peer without quorum). */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/**
 * The server state names Apache prints in `Mode:` and `zk_server_state`.
 * @inline
 */
export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** One entry of an expiry queue (sessions or connections), bucketed by expiry time like Apache's ExpiryQueue. */
export interface ExpiryBucket<T> {
  /** Wall-clock time (ms since epoch) when the bucket expires. */
  expiresAt: number;
  items: T[];
}

/** The per-connection figures `cons`/`stat` print; one per open client-port connection (including the one asking). */
export interface FourLetterConnection {
  /** Remote IP as Node reports it (`socket.remoteAddress`), e.g. "127.0.0.1". */
  remoteAddress: string;
  remotePort: number;
  /** NIO interest ops: 1 while the connection reads requests, 0 when reading is paused (throttled, or the 4lw connection itself). */
  interestOps: number;
  /** Requests received on this connection not yet answered. */
  outstandingRequests: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0n until the session is established; the extended fields below are printed only when non-zero. */
  sessionId: bigint;
  /** Apache's 4-letter op abbreviation of the last request answered ("PING", "GETD", ... see `lastOpAbbreviation`), "NA" when none. */
  lastOperation: string;
  /** When the connection was established (ms since epoch). */
  established: number;
  /** Negotiated session timeout in ms. */
  sessionTimeout: number;
  /** Last client xid answered; negative means none (then `lcxid` is omitted, like Apache). */
  lastCxid: number;
  /** Last zxid sent to the client; -1n when none (printed as 0xffffffffffffffff like Apache). */
  lastZxid: bigint;
  /** Time of the last response in ms (Apache uses a monotonic clock; any monotonic ms value works). 0 when none. */
  lastResponseTime: number;
  /** Latency of the last request, and min/avg/max over the connection, in ms (integers). */
  lastLatency: number;
  minLatency: number;
  avgLatency: number;
  maxLatency: number;
}

/** Server-wide statistics (Apache's ServerStats) used by srvr, stat and mntr. */
export interface FourLetterStats {
  /** Request latency in ms: min and max as integers, avg as a double (printed like Java's Double.toString, 4 decimals). 0/0/0 with no data. */
  minLatency: number;
  avgLatency: number;
  maxLatency: number;
  packetsReceived: number;
  packetsSent: number;
  /** Requests queued in the pipeline not yet answered. */
  outstandingRequests: number;
  /** Number of open client-port connections (Apache counts the 4lw connection too). */
  aliveConnections: number;
  /** Last zxid applied to the tree. */
  lastProcessedZxid: bigint;
  /** Number of znodes, including /, /zookeeper and its children. */
  nodeCount: number;
}

/** Figures for `mntr` beyond FourLetterStats. */
export interface FourLetterMonitor {
  /** Number of ephemeral znodes. */
  ephemeralsCount: number;
  /** Sum of path lengths + data lengths over all znodes (Apache's approximateDataSize). */
  approximateDataSize: number;
  /** Total watches (data + child tables), Apache's DataTree.getWatchCount(). */
  watchCount: number;
  /** Global (non-local) sessions. */
  globalSessions: number;
  localSessions: number;
  authFailedCount: number;
  /** Sizes (bytes) of client responses: last/min/max; -1 when none sent yet. */
  lastClientResponseSize: number;
  minClientResponseSize: number;
  maxClientResponseSize: number;
  /** Server uptime in ms. */
  uptimeMs: number;
  /** Open / max file descriptors; omitted when unknown (Apache prints them only on Unix). */
  openFileDescriptorCount?: number;
  maxFileDescriptorCount?: number;
  /** Leader only (Apache prints these only when Mode is leader). */
  leader?: {
    learners: number;
    syncedFollowers: number;
    syncedNonVotingFollowers: number;
    syncedObservers: number;
    pendingSyncs: number;
    lastProposalSize: number;
    minProposalSize: number;
    maxProposalSize: number;
  };
  /**
   * Further metrics the server tracks, appended as `zk_<name>\t<value>` in the order given
   * (e.g. ['fsynctime', ...] via `summaryMetrics`). Names without the `zk_` prefix.
   */
  extra?: Array<[string, number | string]>;
}

/** Values `conf` prints (Apache's ZooKeeperServer.dumpConf, plus QuorumZooKeeperServer's block in an ensemble). */
export interface FourLetterConf {
  clientPort: number;
  /** -1 when no secure port. */
  secureClientPort: number;
  /** Apache prints the snapshot dir, i.e. `<dataDir>/version-2`. */
  dataDir: string;
  /** Apache prints the txn-log dir, i.e. `<dataLogDir>/version-2`. */
  dataLogDir: string;
  tickTime: number;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  /** -1 = platform default. */
  clientPortListenBacklog: number;
  /** myid; 0 for a standalone server. */
  serverId: number;
  /** Present only for a quorum peer. */
  quorum?: {
    initLimit: number;
    syncLimit: number;
    /** Always 3 (FastLeaderElection). */
    electionAlg: number;
    electionPort: number;
    quorumPort: number;
    /** 0 = participant, 1 = observer (LearnerType ordinal). */
    peerType: number;
    /** The dynamic config text, "server.1=...\n...version=<hex>" (see formatDynamicConfig in config/quorum-config.ts). */
    membership: string;
  };
}

/**
 * Everything the words need, supplied by the server. Methods are called only
 * by the word that needs them, so expensive dumps (watches, ephemerals) cost
 * nothing for `ruok`.
 */
export interface FourLetterContext {
  /** Version string printed by srvr/stat/mntr/envi, e.g. SERVER_VERSION. */
  version: string;
  /** False while starting/stopping or while a quorum peer has no leader: most words then reply ZK_NOT_SERVING. */
  isServing(): boolean;
  /** Current role; 'read-only' makes isro answer "ro" and srvr/stat add the READ-ONLY line. */
  mode(): ServerMode;
  stats(): FourLetterStats;
  monitor(): FourLetterMonitor;
  /** All open client-port connections, in the order to print. */
  connections(): FourLetterConnection[];
  /**
   * The data-watch table as session id -> watched paths (insertion order).
   * Apache's wchs/wchc/wchp report only the data-watch table (getData/exists
   * watches, and persistent watches, which are registered there too), not
   * child watches; pass the same to match.
   */
  dataWatchesBySession(): Map<bigint, string[]>;
  conf(): FourLetterConf;
  /** Bytes of the snapshot dir and of the txn-log dir (their version-2 folders). */
  dirSizes(): { dataDir: number; logDir: number };
  /** key=value pairs for `envi`, after the leading "Environment:" line; see defaultEnvironment(). */
  environment(): Array<[string, string]>;
  /** Session expiry buckets (sorted by the formatter). */
  sessionExpiry(): Array<ExpiryBucket<bigint>>;
  /** session id -> ephemeral paths it owns. */
  ephemerals(): Map<bigint, string[]>;
  /** Connection expiry buckets; items print as "ip: /<addr>:<port> sessionId: 0x<hex>". */
  connectionExpiry(): Array<ExpiryBucket<{ remoteAddress: string; remotePort: number; sessionId: bigint }>>;
  /** crst: reset per-connection packet counts, latencies, last op/zxid/cxid (lastZxid becomes -1n, lastCxid -1, lastOperation "NA"). */
  resetConnectionStats(): void;
  /** srst: reset server latency, packet counters, auth failures, response sizes (and the leader's proposal sizes). */
  resetServerStats(): void;
  /** gtmk: the trace mask (Apache's default 306). Optional; defaults to 306. */
  traceMask?(): bigint;
}

/** Version string our server reports where Apache reports its build. */
export const SERVER_VERSION = '3.8.0-zookeeper-ts';

/** Reads the 4 bytes of a connection's first frame-length field as a word; null when they are not a known word. */
export function fourLetterWordFromHeader(first4bytes: Buffer): FourLetterWord | null {
  if (first4bytes.length < 4) return null;
  const word = first4bytes.toString('latin1', 0, 4);
  return KNOWN.has(word) ? (word as FourLetterWord) : null;
}

/** The 32-bit big-endian code of a word, as Apache's FourLetterCommands constants (`ruok` -> 0x72756f6b). */
export function fourLetterWordCode(word: string): number {
  return Buffer.from(word, 'latin1').readInt32BE(0);
}

/**
 * Parses a whitelist value (`4lw.commands.whitelist` / `zookeeper.4lw.commands.whitelist`)
 * the way Apache does: comma-separated, trimmed, `*` enables every known word;
 * `srvr` is always enabled (zkServer.sh status needs it) and `isro` too when
 * read-only mode is enabled. Unset means only those.
 */
export function parseFourLetterWhitelist(value: string | undefined, readOnlyModeEnabled = false): Set<string> {
  const enabled = new Set<string>();
  if (value !== undefined) {
    for (const raw of value.split(',')) {
      const word = raw.trim();
      if (word === '*') {
        for (const w of FOUR_LETTER_WORDS) enabled.add(w);
        break;
      }
      if (word !== '') enabled.add(word);
    }
  }
  if (readOnlyModeEnabled) enabled.add('isro');
  enabled.add('srvr');
  return enabled;
}

/**
 * Runs one word and returns the full reply text (the caller writes it and
 * closes the connection), or null when `cmd` is not a known word (then the 4
 * bytes are a frame length and the connection is a normal client).
 *
 * @example runFourLetterWord('ruok', ctx, '*') // 'imok'
 */
export function runFourLetterWord(cmd: string, ctx: FourLetterContext, whitelist: Set<string> | '*'): string | null {
  if (!KNOWN.has(cmd)) return null;
  if (whitelist !== '*' && !whitelist.has(cmd)) {
    return `${cmd} is not executed because it is not in the whitelist.\n`;
  }
  const word = cmd as FourLetterWord;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'gtmk':
      return (ctx.traceMask ? ctx.traceMask() : 306n).toString();
    case 'envi':
      return formatEnvironment(ctx);
    case 'isro':
      if (!ctx.isServing()) return 'null';
      return ctx.mode() === 'read-only' ? 'ro' : 'rw';
    default:
      break;
  }
  if (!ctx.isServing()) return ZK_NOT_SERVING + '\n';
  switch (word) {
    case 'srvr':
      return formatStat(ctx, false);
    case 'stat':
      return formatStat(ctx, true);
    case 'mntr':
      return formatMonitor(ctx);
    case 'conf':
      return formatConf(ctx);
    case 'cons':
      return ctx.connections().map((c) => formatConnection(c, false) + '\n').join('') + '\n';
    case 'crst':
      ctx.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      ctx.resetServerStats();
      return 'Server stats reset.\n';
    case 'wchs':
      return formatWatchSummary(ctx.dataWatchesBySession());
    case 'wchc':
      return formatWatchesBySession(ctx.dataWatchesBySession()) + '\n';
    case 'wchp':
      return formatWatchesByPath(ctx.dataWatchesBySession()) + '\n';
    case 'dirs': {
      const d = ctx.dirSizes();
      return `datadir_size: ${d.dataDir}\nlogdir_size: ${d.logDir}\n`;
    }
    case 'dump':
      return formatDump(ctx);
  }
}

/** Long.toHexString: two's complement for negatives (session ids use all 64 bits). */
export function javaHex(n: bigint | number): string {
  return BigInt.asUintN(64, BigInt(n)).toString(16);
}

/** Java's Double.toString for the magnitudes latency averages take: always a decimal point. */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : n < 0 ? '-Infinity' : 'NaN';
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** Apache rounds the average latency to 4 decimals (HALF_UP) before printing. */
function roundAvg(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function formatStat(ctx: FourLetterContext, withClients: boolean): string {
  const out: string[] = [];
  out.push(`Zookeeper version: ${ctx.version}`);
  const mode = ctx.mode();
  if (mode === 'read-only') out.push('READ-ONLY mode; serving only read-only clients');
  if (withClients) {
    out.push('Clients:');
    for (const c of ctx.connections()) out.push(formatConnection(c, true));
    out.push('');
  }
  const s = ctx.stats();
  out.push(`Latency min/avg/max: ${s.minLatency}/${javaDouble(roundAvg(s.avgLatency))}/${s.maxLatency}`);
  out.push(`Received: ${s.packetsReceived}`);
  out.push(`Sent: ${s.packetsSent}`);
  out.push(`Connections: ${s.aliveConnections}`);
  out.push(`Outstanding: ${s.outstandingRequests}`);
  out.push(`Zxid: 0x${javaHex(s.lastProcessedZxid)}`);
  out.push(`Mode: ${mode}`);
  out.push(`Node count: ${s.nodeCount}`);
  if (mode === 'leader') {
    const l = ctx.monitor().leader;
    if (l) out.push(`Proposal sizes last/min/max: ${l.lastProposalSize}/${l.minProposalSize}/${l.maxProposalSize}`);
  }
  return out.join('\n') + '\n';
}

/** Java's InetSocketAddress.toString for an unresolved-hostname address: "/ip:port". */
function socketAddress(address: string, port: number): string {
  return `/${address.startsWith('::ffff:') ? address.slice(7) : address}:${port}`;
}

/** One connection line as Apache's ServerCnxn.dumpConnectionInfo prints it (without the newline). */
export function formatConnection(c: FourLetterConnection, brief: boolean): string {
  let line = ` ${socketAddress(c.remoteAddress, c.remotePort)}[${c.interestOps < 0 ? '0' : c.interestOps.toString(16)}]`;
  line += `(queued=${c.outstandingRequests},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    line += `,sid=0x${javaHex(c.sessionId)},lop=${c.lastOperation},est=${c.established},to=${c.sessionTimeout}`;
    if (c.lastCxid >= 0) line += `,lcxid=0x${javaHex(c.lastCxid)}`;
    line += `,lzxid=0x${javaHex(c.lastZxid)},lresp=${c.lastResponseTime},llat=${c.lastLatency}`;
    line += `,minlat=${c.minLatency},avglat=${c.avgLatency},maxlat=${c.maxLatency}`;
  }
  return line + ')';
}

function formatMonitor(ctx: FourLetterContext): string {
  const s = ctx.stats();
  const m = ctx.monitor();
  const mode = ctx.mode();
  // Key order follows Apache 3.8's output for the keys we share.
  const lines: Array<[string, number | string]> = [
    ['version', ctx.version],
    ['server_state', mode],
    ['ephemerals_count', m.ephemeralsCount],
    ['num_alive_connections', s.aliveConnections],
    ['avg_latency', javaDouble(roundAvg(s.avgLatency))],
    ['outstanding_requests', s.outstandingRequests],
    ['znode_count', s.nodeCount],
    ['global_sessions', m.globalSessions],
    ['last_client_response_size', m.lastClientResponseSize],
    ['packets_sent', s.packetsSent],
    ['packets_received', s.packetsReceived],
    ['max_client_response_size', m.maxClientResponseSize],
    ['watch_count', m.watchCount],
    ['auth_failed_count', m.authFailedCount],
    ['min_latency', s.minLatency],
  ];
  if (m.maxFileDescriptorCount !== undefined) lines.push(['max_file_descriptor_count', m.maxFileDescriptorCount]);
  lines.push(['approximate_data_size', m.approximateDataSize]);
  if (m.openFileDescriptorCount !== undefined) lines.push(['open_file_descriptor_count', m.openFileDescriptorCount]);
  lines.push(['local_sessions', m.localSessions]);
  lines.push(['uptime', m.uptimeMs]);
  lines.push(['max_latency', s.maxLatency]);
  lines.push(['min_client_response_size', m.minClientResponseSize]);
  if (mode === 'leader' && m.leader) {
    const l = m.leader;
    lines.push(['learners', l.learners]);
    lines.push(['synced_followers', l.syncedFollowers]);
    lines.push(['synced_non_voting_followers', l.syncedNonVotingFollowers]);
    lines.push(['synced_observers', l.syncedObservers]);
    lines.push(['pending_syncs', l.pendingSyncs]);
    lines.push(['last_proposal_size', l.lastProposalSize]);
    lines.push(['max_proposal_size', l.maxProposalSize]);
    lines.push(['min_proposal_size', l.minProposalSize]);
  }
  for (const e of m.extra ?? []) lines.push(e);
  return lines.map(([k, v]) => `zk_${k}\t${v}\n`).join('');
}

/**
 * Apache's summary metrics (AvgMinMaxCounter) as mntr lines: avg_/min_/max_/cnt_/sum_<name>.
 * @example summaryMetrics('fsynctime', { count: 2, sum: 10, min: 3, max: 7 })
 */
export function summaryMetrics(
  name: string,
  s: { count: number; sum: number; min: number; max: number },
): Array<[string, number | string]> {
  const avg = s.count > 0 ? roundAvg(s.sum / s.count) : 0;
  return [
    [`avg_${name}`, javaDouble(avg)],
    [`min_${name}`, s.count > 0 ? s.min : 0],
    [`max_${name}`, s.count > 0 ? s.max : 0],
    [`cnt_${name}`, s.count],
    [`sum_${name}`, s.sum],
  ];
}

function formatConf(ctx: FourLetterContext): string {
  const c = ctx.conf();
  const d = ctx.dirSizes();
  let out =
    `clientPort=${c.clientPort}\n` +
    `secureClientPort=${c.secureClientPort}\n` +
    `dataDir=${c.dataDir}\n` +
    `dataDirSize=${d.dataDir}\n` +
    `dataLogDir=${c.dataLogDir}\n` +
    `dataLogSize=${d.logDir}\n` +
    `tickTime=${c.tickTime}\n` +
    `maxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\n` +
    `clientPortListenBacklog=${c.clientPortListenBacklog}\n` +
    `serverId=${c.serverId}\n`;
  if (c.quorum) {
    const q = c.quorum;
    out +=
      `initLimit=${q.initLimit}\n` +
      `syncLimit=${q.syncLimit}\n` +
      `electionAlg=${q.electionAlg}\n` +
      `electionPort=${q.electionPort}\n` +
      `quorumPort=${q.quorumPort}\n` +
      `peerType=${q.peerType}\n` +
      'membership: \n' +
      q.membership;
  }
  return out;
}

function formatEnvironment(ctx: FourLetterContext): string {
  return 'Environment:\n' + ctx.environment().map(([k, v]) => `${k}=${v}\n`).join('');
}

/** Apache's WatchManager.toString: "<n> connections watching <m> paths\nTotal watches:<t>". */
function formatWatchSummary(bySession: Map<bigint, string[]>): string {
  const paths = new Set<string>();
  let total = 0;
  for (const list of bySession.values()) {
    for (const p of list) {
      paths.add(p);
      total++;
    }
  }
  return `${bySession.size} connections watching ${paths.size} paths\nTotal watches:${total}\n`;
}

function formatWatchesBySession(bySession: Map<bigint, string[]>): string {
  let out = '';
  for (const [sid, list] of bySession) {
    out += `0x${javaHex(sid)}\n`;
    for (const p of list) out += `\t${p}\n`;
  }
  return out;
}

function formatWatchesByPath(bySession: Map<bigint, string[]>): string {
  const byPath = new Map<string, bigint[]>();
  for (const [sid, list] of bySession) {
    for (const p of list) {
      let sids = byPath.get(p);
      if (!sids) byPath.set(p, (sids = []));
      sids.push(sid);
    }
  }
  let out = '';
  for (const [p, sids] of byPath) {
    out += `${p}\n`;
    for (const sid of sids) out += `\t0x${javaHex(sid)}\n`;
  }
  return out;
}

function formatExpiryQueue<T>(buckets: Array<ExpiryBucket<T>>, item: (t: T) => string): string {
  const sorted = [...buckets].sort((a, b) => a.expiresAt - b.expiresAt);
  const elements = sorted.reduce((n, b) => n + b.items.length, 0);
  let out = `Sets (${sorted.length})/(${elements}):\n`;
  for (const b of sorted) {
    out += `${b.items.length} expire at ${javaDate(b.expiresAt)}:\n`;
    for (const t of b.items) out += `\t${item(t)}\n`;
  }
  return out;
}

function formatDump(ctx: FourLetterContext): string {
  let out = 'SessionTracker dump:\n';
  out += 'Session ' + formatExpiryQueue(ctx.sessionExpiry(), (sid) => `0x${javaHex(sid)}`);
  out += 'ephemeral nodes dump:\n';
  const eph = ctx.ephemerals();
  out += `Sessions with Ephemerals (${eph.size}):\n`;
  for (const [sid, paths] of eph) {
    out += `0x${javaHex(sid)}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  out += 'Connections dump:\n';
  out +=
    'Connections ' +
    formatExpiryQueue(
      ctx.connectionExpiry(),
      (c) => `ip: ${socketAddress(c.remoteAddress, c.remotePort)} sessionId: 0x${javaHex(c.sessionId)}`,
    );
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString in UTC: "Sat Nov 21 23:45:29 UTC 2026". UTC keeps dumps comparable across hosts. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/**
 * Apache's ServerCnxn "last operation" abbreviations, by opcode (FinalRequestProcessor).
 * Returns "NA" for an opcode without one.
 */
export function lastOpAbbreviation(opCode: number): string {
  return LAST_OP.get(opCode) ?? 'NA';
}

// Opcode numbers from the wire protocol (src/proto/constants OpCode); kept literal here so this
// module stays dependency-free for the formatter tests.
const LAST_OP = new Map<number, string>([
  [11, 'PING'], // ping
  [-10, 'SESS'], // createSession
  [-11, 'CLOS'], // closeSession
  [1, 'CREA'], // create
  [15, 'CREA'], // create2
  [19, 'CREA'], // createTTL
  [21, 'CREA'], // createContainer
  [2, 'DELE'], // delete
  [20, 'DELE'], // deleteContainer
  [3, 'EXIS'], // exists
  [4, 'GETD'], // getData
  [5, 'SETD'], // setData
  [6, 'GETA'], // getACL
  [7, 'SETA'], // setACL
  [8, 'GETC'], // getChildren
  [12, 'GETC'], // getChildren2
  [9, 'SYNC'], // sync
  [13, 'CHEC'], // check
  [14, 'MULT'], // multi
  [22, 'MLTR'], // multiRead
  [101, 'SETW'], // setWatches
  [105, 'SETW'], // setWatches2
  [17, 'CHKW'], // checkWatches
  [18, 'REMW'], // removeWatches
  [103, 'GETE'], // getEphemerals
  [104, 'GETC'], // getAllChildrenNumber
  [106, 'ADDW'], // addWatch
  [107, 'HOMI'], // whoAmI
  [16, 'RECO'], // reconfig
]);

/**
 * An `envi` listing for a Node process, keeping Apache's keys where they have a
 * Node meaning (zookeeper.version, host.name, os.*, user.*) and naming the
 * runtime honestly (node.version instead of java.version).
 */
export function defaultEnvironment(version: string = SERVER_VERSION): Array<[string, string]> {
  const mem = process.memoryUsage();
  const mb = (n: number) => `${Math.floor(n / (1024 * 1024))}MB`;
  let userName = '';
  let userHome = '';
  try {
    const u = os.userInfo();
    userName = u.username;
    userHome = u.homedir;
  } catch {
    // No passwd entry for the uid (containers): leave blank like Java's "?" would be misleading.
  }
  return [
    ['zookeeper.version', version],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['node.execPath', process.execPath],
    ['os.tmpdir', os.tmpdir()],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', userName],
    ['user.home', userHome],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(mem.heapTotal - mem.heapUsed)],
    ['os.memory.max', mb(os.totalmem())],
    ['os.memory.total', mb(mem.heapTotal)],
  ];
}
