/**
 * The commands of zk-cli, a zkCli.sh-style shell over our client SDK: every
 * command zkCli.sh 3.8 lists (addWatch, addauth, close, config, connect,
 * create, delete, deleteall, delquota, get, getAcl, getAllChildrenNumber,
 * getEphemerals, history, listquota, ls, printwatches, quit, reconfig, redo,
 * removewatches, set, setAcl, setquota, stat, sync, version, whoami). Output
 * and error texts, and the stream each goes to, follow Apache's zkCli (3.8)
 * so that scripts and habits carry over: `Created /a` (stderr), `[a, b]`,
 * the `cZxid = 0x...` stat block, `'world,'anyone` / `: cdrwa` for ACLs,
 * `Node does not exist: /a`, `KeeperErrorCode = Reconfig is disabled`
 * (test/unit/cli/zk-cli-vs-zkcli.test.ts compares both shells line by line).
 *
 * Parsing and formatting are separate from the terminal: `runCommand` takes
 * the argument words and an output sink, so tests drive it directly.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ACL, ClientInfo, Id, Stat } from '../proto/generated';
import { AddWatchMode, CreateMode, ErrorCode, EventType, KeeperState, Perms, WatcherType } from '../proto/constants';
import { KeeperError } from '../client/errors';
import type { WatchedEvent, Watcher } from '../client/watch-manager';
import { javaDate, javaHex } from '../server/net/four-letter-words';
import { shellWords } from '../server/config/system-properties';
import { QuotaCommandError, QuotaField, delQuota, listQuota, parseQuotaValue, setQuota } from './shell/quota-commands';

/** The part of the ZooKeeper handle the shell uses (the real handle satisfies it). */
export interface CliClient {
  create(path: string, data?: Buffer | string | null, options?: { mode?: CreateMode; acl?: ACL[]; ttl?: number | bigint }): Promise<string>;
  delete(path: string, version?: number): Promise<void>;
  exists(path: string, watch?: Watcher | boolean | null): Promise<Stat | null>;
  getData(path: string, watch?: Watcher | boolean | null): Promise<{ data: Buffer | null; stat: Stat }>;
  setData(path: string, data: Buffer | string | null, version?: number): Promise<Stat>;
  getChildren(path: string, watch?: Watcher | boolean | null): Promise<string[]>;
  getChildren2(path: string, watch?: Watcher | boolean | null): Promise<{ children: string[]; stat: Stat }>;
  getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }>;
  setACL(path: string, acl: ACL[], version?: number): Promise<Stat>;
  addAuthInfo(scheme: string, auth: Buffer | string): Promise<void>;
  sync(path: string): Promise<string>;
  whoAmI(): Promise<ClientInfo[]>;
  getEphemerals(prefixPath?: string): Promise<string[]>;
  getAllChildrenNumber(path: string): Promise<number>;
  addWatch(path: string, watcher: Watcher, mode?: AddWatchMode): Promise<void>;
  removeAllWatches(path: string, type?: WatcherType, local?: boolean): Promise<void>;
  getConfig(watch?: Watcher | boolean | null): Promise<{ data: Buffer | null; stat: Stat }>;
  reconfig(options: { joining?: string | null; leaving?: string | null; newMembers?: string | null; fromConfig?: bigint | number }): Promise<{
    data: Buffer | null;
    stat: Stat;
  }>;
  close(): Promise<void>;
}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
  /** printwatches: whether watch events are printed (default on). */
  watchesOn?(): boolean;
}

/**
 * What the interactive shell keeps between commands (zkCli's ZooKeeperMain
 * state): the history by command number, printwatches, and the handle that
 * connect/close replace. One-shot runs get a fresh one.
 */
export interface ShellContext {
  history: Map<number, string>;
  /** The number of the command being run (zkCli's commandCount). */
  commandCount: number;
  printWatches: boolean;
  /** connect [host:port]: closes the handle and opens one to the given (or the current) servers. */
  connect(connectString?: string): Promise<void>;
  /** close: closes the handle; the shell stays (its prompt says CLOSED). */
  close(): Promise<void>;
}

/** A ShellContext for one-shot runs: no history, connect/close act on nothing. */
export function oneShotContext(): ShellContext {
  return { history: new Map(), commandCount: 0, printWatches: true, connect: async () => undefined, close: async () => undefined };
}

/** Outcome of one command: ok=false makes a non-interactive run exit 1; quit ends the shell. */
export interface CommandOutcome {
  ok: boolean;
  quit?: boolean;
}

/** A command-line mistake (bad option, missing argument); printed with the command's usage. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

interface CommandSpec {
  usage: string;
  /** Option letters of which at most one may be given (commons-cli OptionGroup). */
  exclusive?: string;
  /** A command with its own option syntax (reconfig's -file/-members/-add/-remove). */
  parse?(words: readonly string[]): ParsedCommand;
  /** Option letters taking no value, and those taking one. */
  flags: string;
  valued: string;
  minArgs: number;
  maxArgs: number;
  run(zk: CliClient, a: ParsedCommand, io: CliOutput): Promise<void>;
}

interface ParsedCommand {
  opts: Map<string, string | true>;
  args: string[];
}

/** Apache's permission letters in ZKUtil.getPermString order. */
const PERM_LETTERS: Array<[string, number]> = [
  ['c', Perms.CREATE],
  ['d', Perms.DELETE],
  ['r', Perms.READ],
  ['w', Perms.WRITE],
  ['a', Perms.ADMIN],
];

export function permString(perms: number): string {
  return PERM_LETTERS.filter(([, bit]) => (perms & bit) !== 0)
    .map(([l]) => l)
    .join('');
}

/**
 * Parses zkCli's ACL syntax: comma-separated `scheme:id:perms`, the id being
 * everything between the first and the last colon (digest ids contain one).
 * @example parseAcl('world:anyone:cdrwa,digest:bob:XXX=:r')
 */
export function parseAcl(text: string): ACL[] {
  const out: ACL[] = [];
  for (const part of text.split(',')) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first < 0 || first === last) throw new CliUsageError(`${part} does not have the form scheme:id:perm`);
    let perms = 0;
    for (const ch of part.slice(last + 1)) {
      const entry = PERM_LETTERS.find(([l]) => l === ch);
      if (!entry) throw new CliUsageError(`Unknown perm type: ${ch}`);
      perms |= entry[1];
    }
    out.push(new ACL({ perms, id: new Id({ scheme: part.slice(0, first), id: part.slice(first + 1, last) }) }));
  }
  return out;
}

/** The stat block zkCli prints (`cZxid = 0x...` ... `numChildren = 0`). */
export function formatStat(stat: Stat): string {
  return [
    `cZxid = 0x${javaHex(stat.czxid)}`,
    `ctime = ${javaDate(Number(stat.ctime))}`,
    `mZxid = 0x${javaHex(stat.mzxid)}`,
    `mtime = ${javaDate(Number(stat.mtime))}`,
    `pZxid = 0x${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ].join('\n');
}

const EVENT_NAMES = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));
const STATE_NAMES = new Map<number, string>(Object.entries(KeeperState).map(([k, v]) => [v, k]));

/** Apache's WatchedEvent.toString. */
export function formatWatchedEvent(e: WatchedEvent): string {
  return `WatchedEvent state:${STATE_NAMES.get(e.state) ?? e.state} type:${EVENT_NAMES.get(e.type) ?? e.type} path:${e.path}`;
}

/** Apache's KeeperException.Code messages: zkCli prints "KeeperErrorCode = <this>[ for <path>]" for the codes it has no words of its own for. */
const APACHE_CODE_TEXT: Record<number, string> = {
  [ErrorCode.SYSTEMERROR]: 'SystemError',
  [ErrorCode.RUNTIMEINCONSISTENCY]: 'RuntimeInconsistency',
  [ErrorCode.DATAINCONSISTENCY]: 'DataInconsistency',
  [ErrorCode.CONNECTIONLOSS]: 'ConnectionLoss',
  [ErrorCode.MARSHALLINGERROR]: 'MarshallingError',
  [ErrorCode.UNIMPLEMENTED]: 'Unimplemented',
  [ErrorCode.OPERATIONTIMEOUT]: 'OperationTimeout',
  [ErrorCode.BADARGUMENTS]: 'BadArguments',
  [ErrorCode.UNKNOWNSESSION]: 'UnknownSession',
  [ErrorCode.NEWCONFIGNOQUORUM]: 'NewConfigNoQuorum',
  [ErrorCode.RECONFIGINPROGRESS]: 'ReconfigInProgress',
  [ErrorCode.APIERROR]: 'APIError',
  [ErrorCode.NONODE]: 'NoNode',
  [ErrorCode.NOAUTH]: 'NoAuth',
  [ErrorCode.BADVERSION]: 'BadVersion',
  [ErrorCode.NOCHILDRENFOREPHEMERALS]: 'NoChildrenForEphemerals',
  [ErrorCode.NODEEXISTS]: 'NodeExists',
  [ErrorCode.NOTEMPTY]: 'Directory not empty',
  [ErrorCode.SESSIONEXPIRED]: 'Session expired',
  [ErrorCode.INVALIDCALLBACK]: 'Invalid callback',
  [ErrorCode.INVALIDACL]: 'InvalidACL',
  [ErrorCode.AUTHFAILED]: 'AuthFailed',
  [ErrorCode.SESSIONMOVED]: 'Session moved',
  [ErrorCode.NOTREADONLY]: 'Not a read-only call',
  [ErrorCode.EPHEMERALONLOCALSESSION]: 'Ephemeral node on local session',
  [ErrorCode.NOWATCHER]: 'No such watcher',
  [ErrorCode.REQUESTTIMEOUT]: 'Request timeout',
  [ErrorCode.RECONFIGDISABLED]: 'Reconfig is disabled',
  [ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH]: 'Session closed because client failed to authenticate',
  [ErrorCode.QUOTAEXCEEDED]: 'Quota has exceeded',
  [ErrorCode.THROTTLEDOP]: 'Op throttled due to high load',
};

/** Apache's KeeperException.getMessage: "KeeperErrorCode = NoNode for /a". */
export function keeperErrorCodeMessage(code: number, path?: string): string {
  const text = APACHE_CODE_TEXT[code] ?? `Unknown error ${code}`;
  return `KeeperErrorCode = ${text}${path !== undefined && path !== '' ? ` for ${path}` : ''}`;
}

/** zkCli's message for a KeeperError (CliWrapperException), naming the path. */
export function describeError(e: unknown, path?: string): string {
  if (!(e instanceof KeeperError)) return (e as Error)?.message ?? String(e);
  const p = e.path ?? path ?? '';
  switch (e.code) {
    case ErrorCode.NONODE:
      return `Node does not exist: ${p}`;
    case ErrorCode.NOCHILDRENFOREPHEMERALS:
      return `Ephemerals cannot have children: ${p}`;
    case ErrorCode.NODEEXISTS:
      return `Node already exists: ${p}`;
    case ErrorCode.NOTEMPTY:
      return `Node not empty: ${p}`;
    case ErrorCode.NOTREADONLY:
      return `Not a read-only call: ${p}`;
    case ErrorCode.INVALIDACL:
      return `Acl is not valid : ${p}`;
    case ErrorCode.NOAUTH:
      return `Insufficient permission : ${p}`;
    case ErrorCode.BADARGUMENTS:
      return `Arguments are not valid : ${p}`;
    case ErrorCode.BADVERSION:
      return `version No is not valid : ${p}`;
    case ErrorCode.EPHEMERALONLOCALSESSION:
      return 'Unable to create ephemeral node on a local session';
    case ErrorCode.QUOTAEXCEEDED:
      return `Quota has exceeded : ${p}`;
    case ErrorCode.RECONFIGINPROGRESS:
      return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case ErrorCode.NEWCONFIGNOQUORUM:
      return (
        'No quorum of new config is connected and up-to-date with the leader of last commmitted config - ' +
        'try invoking reconfiguration after new servers are connected and synced'
      );
    default:
      return keeperErrorCodeMessage(e.code, p);
  }
}

/** Java's List.toString: "[a, b]". */
function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

function parseIntArg(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new CliUsageError(`${name} must be an integer: ${v}`);
  return Number(v);
}

function printingWatcher(io: CliOutput): Watcher {
  return (e: WatchedEvent) => {
    if (io.watchesOn?.() ?? true) io.out(`\nWATCHER::\n\n${formatWatchedEvent(e)}\n`);
  };
}

/** A message zkCli prints as it is (no usage line), on stderr. */
class ShellMessage extends Error {
  override readonly name = 'ShellMessage';
}

/** The package's version, for `version` (package.json sits two or three levels above this file, in src or dist). */
function packageVersion(): string {
  for (const up of ['..', '../..', '../../..']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'zookeeper-ts' && pkg.version) return pkg.version;
    } catch {
      // try the next level
    }
  }
  return 'unknown';
}

/** ConfigUtils.getClientConfigStr: "<version> <client host:port,...>" from a dynamic config text. */
export function clientConfigString(config: string): string {
  let version = '';
  const hosts: string[] = [];
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'version') version = value;
    else if (key.startsWith('server.')) {
      const semi = value.indexOf(';');
      if (semi < 0) continue;
      let client = value.slice(semi + 1);
      if (!client.includes(':')) client = `0.0.0.0:${client}`;
      hosts.push(client);
    }
  }
  return `${version} ${hosts.join(',')}`;
}

/** Parses reconfig's words: -s, -v <hex version>, and one of -file, -members, or -add/-remove. */
function parseReconfig(words: readonly string[]): ParsedCommand {
  const opts = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '-s') opts.set('s', true);
    else if (['-v', '-file', '-members', '-add', '-remove'].includes(w)) {
      if (i + 1 >= words.length) throw new CliUsageError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${w.slice(1)}`);
      opts.set(w.slice(1), words[++i]);
    } else throw new CliUsageError(`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${w}`);
  }
  const hasMembers = opts.has('file') || opts.has('members');
  const hasIncremental = opts.has('add') || opts.has('remove');
  if (hasMembers === hasIncremental || (opts.has('file') && opts.has('members'))) throw new CliUsageError('');
  return { opts, args: [] };
}

/** The server.N lines of a dynamic config file, joined by commas (reconfig -file). */
function membersFromFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ShellMessage(`Unable to read the config file ${file}: ${(e as Error).message}`);
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('server.'));
  return lines.join(',');
}

const QUOTA_LETTERS = 'nbNB';

function quotaFieldOf(a: ParsedCommand): QuotaField | null {
  for (const l of QUOTA_LETTERS) if (a.opts.has(l)) return l as QuotaField;
  return null;
}

/** Breadth-first list of a subtree, the root first (ZKUtil.listSubTreeBFS). */
async function listSubtree(zk: CliClient, root: string): Promise<string[]> {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    const p = out[i];
    const kids = await zk.getChildren(p);
    for (const k of kids.sort()) out.push(p === '/' ? `/${k}` : `${p}/${k}`);
  }
  return out;
}

const COMMANDS: Record<string, CommandSpec> = {
  ls: {
    usage: 'ls [-s] [-w] [-R] path',
    flags: 'swR',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      const path = a.args[0];
      if (a.opts.has('R')) {
        for (const p of await listSubtree(zk, path)) io.out(p);
        return;
      }
      const watch = a.opts.has('w') ? printingWatcher(io) : undefined;
      if (a.opts.has('s')) {
        const { children, stat } = await zk.getChildren2(path, watch);
        io.out(javaList([...children].sort()));
        io.out(formatStat(stat));
      } else {
        io.out(javaList([...(await zk.getChildren(path, watch))].sort()));
      }
    },
  },
  get: {
    usage: 'get [-s] [-w] path',
    flags: 'sw',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      const { data, stat } = await zk.getData(a.args[0], a.opts.has('w') ? printingWatcher(io) : undefined);
      io.out(data === null ? 'null' : data.toString('utf8'));
      if (a.opts.has('s')) io.out(formatStat(stat));
    },
  },
  set: {
    usage: 'set [-s] [-v version] path data',
    flags: 's',
    valued: 'v',
    minArgs: 2,
    maxArgs: 2,
    async run(zk, a, io) {
      const version = a.opts.has('v') ? parseIntArg('version', a.opts.get('v') as string) : -1;
      const stat = await zk.setData(a.args[0], Buffer.from(a.args[1], 'utf8'), version);
      if (a.opts.has('s')) io.out(formatStat(stat));
    },
  },
  create: {
    usage: 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]',
    flags: 'sec',
    valued: 't',
    minArgs: 1,
    maxArgs: 3,
    async run(zk, a, io) {
      const seq = a.opts.has('s');
      const eph = a.opts.has('e');
      const container = a.opts.has('c');
      const ttlText = a.opts.get('t');
      if (container && (seq || eph)) throw new CliUsageError('-c cannot be combined with -s or -e');
      if (ttlText !== undefined && (eph || container)) throw new CliUsageError('TTLs cannot be used with Ephemeral or Container nodes');
      let mode: CreateMode;
      if (container) mode = CreateMode.CONTAINER;
      else if (ttlText !== undefined) mode = seq ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_WITH_TTL;
      else if (eph) mode = seq ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL;
      else mode = seq ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.PERSISTENT;
      const data = a.args[1] !== undefined ? Buffer.from(a.args[1], 'utf8') : null;
      const options: { mode: CreateMode; acl?: ACL[]; ttl?: number } = { mode };
      if (a.args[2] !== undefined) options.acl = parseAcl(a.args[2]);
      if (ttlText !== undefined) options.ttl = parseIntArg('ttl', ttlText as string);
      const created = await zk.create(a.args[0], data, options);
      // zkCli 3.8 prints this one on stderr.
      io.err(`Created ${created}`);
    },
  },
  delete: {
    usage: 'delete [-v version] path',
    flags: '',
    valued: 'v',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a) {
      const version = a.opts.has('v') ? parseIntArg('version', a.opts.get('v') as string) : -1;
      await zk.delete(a.args[0], version);
    },
  },
  deleteall: {
    usage: 'deleteall path [-b batch size]',
    flags: '',
    valued: 'b',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a) {
      // Deepest first, so every delete finds its node childless (ZKUtil.deleteRecursive).
      const all = await listSubtree(zk, a.args[0]);
      for (const p of all.reverse()) {
        if (p === '/' || p === '/zookeeper' || p.startsWith('/zookeeper/')) continue;
        try {
          await zk.delete(p, -1);
        } catch (e) {
          if (!(e instanceof KeeperError && e.code === ErrorCode.NONODE)) throw e;
        }
      }
    },
  },
  stat: {
    usage: 'stat [-w] path',
    flags: 'w',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      const stat = await zk.exists(a.args[0], a.opts.has('w') ? printingWatcher(io) : undefined);
      if (stat === null) throw new KeeperError(ErrorCode.NONODE, undefined, a.args[0]);
      io.out(formatStat(stat));
    },
  },
  getAcl: {
    usage: 'getAcl [-s] path',
    flags: 's',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      const { acl, stat } = await zk.getACL(a.args[0]);
      for (const entry of acl) {
        io.out(`'${entry.id.scheme},'${entry.id.id}`);
        io.out(`: ${permString(entry.perms)}`);
      }
      if (a.opts.has('s')) io.out(formatStat(stat));
    },
  },
  setAcl: {
    usage: 'setAcl [-s] [-v version] [-R] path acl',
    flags: 'sR',
    valued: 'v',
    minArgs: 2,
    maxArgs: 2,
    async run(zk, a, io) {
      const acl = parseAcl(a.args[1]);
      const version = a.opts.has('v') ? parseIntArg('version', a.opts.get('v') as string) : -1;
      if (a.opts.has('R')) {
        for (const p of await listSubtree(zk, a.args[0])) await zk.setACL(p, acl, -1);
        return;
      }
      const stat = await zk.setACL(a.args[0], acl, version);
      if (a.opts.has('s')) io.out(formatStat(stat));
    },
  },
  addauth: {
    usage: 'addauth scheme auth',
    flags: '',
    valued: '',
    minArgs: 2,
    maxArgs: 2,
    async run(zk, a) {
      await zk.addAuthInfo(a.args[0], Buffer.from(a.args[1], 'utf8'));
    },
  },
  sync: {
    usage: 'sync path',
    flags: '',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      await zk.sync(a.args[0]);
      io.out('Sync is OK');
    },
  },
  whoami: {
    usage: 'whoami ',
    flags: '',
    valued: '',
    minArgs: 0,
    maxArgs: 0,
    async run(zk, _a, io) {
      const infos = await zk.whoAmI();
      io.out('Auth scheme: User');
      for (const i of infos) io.out(`${i.authScheme}: ${i.user}`);
    },
  },
  getEphemerals: {
    usage: 'getEphemerals path',
    flags: '',
    valued: '',
    minArgs: 0,
    maxArgs: 1,
    async run(zk, a, io) {
      io.out(javaList(await zk.getEphemerals(a.args[0] ?? '/')));
    },
  },
  getAllChildrenNumber: {
    usage: 'getAllChildrenNumber path',
    flags: '',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      io.out(String(await zk.getAllChildrenNumber(a.args[0])));
    },
  },
  addWatch: {
    usage: 'addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
    flags: '',
    valued: 'm',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      const modeName = a.opts.get('m');
      let mode: AddWatchMode = AddWatchMode.PERSISTENT_RECURSIVE;
      if (modeName !== undefined) {
        if (modeName === 'PERSISTENT') mode = AddWatchMode.PERSISTENT;
        else if (modeName !== 'PERSISTENT_RECURSIVE') throw new CliUsageError('');
      }
      await zk.addWatch(a.args[0], printingWatcher(io), mode);
    },
  },
  removewatches: {
    usage: 'removewatches path [-c|-d|-a] [-l]',
    flags: 'cdal',
    valued: '',
    exclusive: 'cda',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a) {
      let type: WatcherType = WatcherType.Any;
      if (a.opts.has('c')) type = WatcherType.Children;
      else if (a.opts.has('d')) type = WatcherType.Data;
      await zk.removeAllWatches(a.args[0], type, a.opts.has('l'));
    },
  },
  config: {
    usage: 'config [-c] [-w] [-s]',
    flags: 'cws',
    valued: '',
    minArgs: 0,
    maxArgs: 0,
    async run(zk, a, io) {
      const { data, stat } = await zk.getConfig(a.opts.has('w') ? printingWatcher(io) : undefined);
      const text = data === null ? 'null' : data.toString('utf8');
      io.out(a.opts.has('c') ? clientConfigString(text) : text);
      if (a.opts.has('s')) io.out(formatStat(stat));
    },
  },
  reconfig: {
    usage:
      'reconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | ' +
      '[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
    flags: '',
    valued: '',
    minArgs: 0,
    maxArgs: 0,
    parse: parseReconfig,
    async run(zk, a, io) {
      const v = a.opts.get('v');
      if (v !== undefined && !/^[0-9a-fA-F]+$/.test(v as string)) throw new ShellMessage(`-v must be followed by a long (hex): ${v}`);
      const members = a.opts.has('file') ? membersFromFile(a.opts.get('file') as string) : (a.opts.get('members') as string | undefined);
      try {
        const { data, stat } = await zk.reconfig({
          joining: (a.opts.get('add') as string | undefined) ?? null,
          leaving: (a.opts.get('remove') as string | undefined) ?? null,
          newMembers: members ?? null,
          fromConfig: v !== undefined ? BigInt(`0x${v}`) : -1n,
        });
        io.out(`Committed new configuration:\n${data === null ? '' : data.toString('utf8')}`);
        if (a.opts.has('s')) io.out(formatStat(stat));
      } catch (e) {
        // Apache's reconfig error carries no path: "KeeperErrorCode = Reconfig is disabled".
        if (e instanceof KeeperError && ![ErrorCode.RECONFIGINPROGRESS, ErrorCode.NEWCONFIGNOQUORUM].includes(e.code as never)) {
          throw new ShellMessage(keeperErrorCodeMessage(e.code));
        }
        throw e;
      }
    },
  },
  version: {
    usage: 'version ',
    flags: '',
    valued: '',
    minArgs: 0,
    maxArgs: 0,
    async run(_zk, _a, io) {
      io.out(`ZooKeeper CLI version: zookeeper-ts ${packageVersion()}`);
    },
  },
  setquota: {
    usage: 'setquota -n|-b|-N|-B val path',
    flags: '',
    valued: QUOTA_LETTERS,
    exclusive: QUOTA_LETTERS,
    minArgs: 1,
    maxArgs: 2,
    async run(zk, a, io) {
      const field = quotaFieldOf(a);
      if (field === null) throw new ShellMessage('Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]');
      await setQuota(zk, a.args[0], field, parseQuotaValue(field, a.opts.get(field) as string), io);
    },
  },
  listquota: {
    usage: 'listquota path',
    flags: '',
    valued: '',
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      await listQuota(zk, a.args[0], io);
    },
  },
  delquota: {
    usage: 'delquota [-n|-b|-N|-B] path',
    flags: QUOTA_LETTERS,
    valued: '',
    exclusive: QUOTA_LETTERS,
    minArgs: 1,
    maxArgs: 1,
    async run(zk, a, io) {
      await delQuota(zk, a.args[0], quotaFieldOf(a), io);
    },
  },
};

/** Commands that act on the shell rather than the tree (ZooKeeperMain handles them itself), with their usage. */
const SHELL_COMMANDS: Record<string, string> = {
  close: 'close ',
  connect: 'connect host:port',
  history: 'history ',
  printwatches: 'printwatches on|off',
  quit: 'quit ',
  redo: 'redo cmdno',
};

/** Usage lines of every command, as `help` prints them (zkCli's order: plain string sort). */
export function helpText(): string {
  const lines = ['ZooKeeper -server host:port -client-configuration properties-file cmd args'];
  const usages = new Map<string, string>([...Object.entries(COMMANDS).map(([n, c]) => [n, c.usage] as [string, string]), ...Object.entries(SHELL_COMMANDS)]);
  for (const name of [...usages.keys()].sort()) lines.push(`\t${usages.get(name)}`);
  return lines.join('\n');
}

/** Splits option words (`-s`, `-sw`, `-v 3`) from arguments, per the command's option letters. */
function parseCommand(spec: CommandSpec, words: readonly string[]): ParsedCommand {
  const opts = new Map<string, string | true>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    // A lone "-" or a negative number is data, not an option.
    if (w.startsWith('-') && w.length > 1 && !/^-\d/.test(w)) {
      const letters = w.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const l = letters[j];
        if (spec.valued.includes(l)) {
          const rest = letters.slice(j + 1);
          if (rest !== '') opts.set(l, rest);
          else if (i + 1 < words.length) opts.set(l, words[++i]);
          else throw new CliUsageError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${l}`);
          break;
        }
        if (!spec.flags.includes(l)) throw new CliUsageError(`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -${l}`);
        opts.set(l, true);
      }
    } else {
      args.push(w);
    }
  }
  if (spec.exclusive) {
    const given = [...spec.exclusive].filter((l) => opts.has(l));
    if (given.length > 1) {
      throw new CliUsageError(
        `org.apache.commons.cli.AlreadySelectedException: The option '${given[1]}' was specified but an option from this group has already been selected: '${given[0]}'`,
      );
    }
  }
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    // zkCli prints only the usage for a missing argument; extra words it would ignore are refused here, naming them.
    throw new CliUsageError(args.length < spec.minArgs ? '' : `too many arguments: ${args.slice(spec.maxArgs).join(' ')}`);
  }
  return { opts, args };
}

/**
 * Runs one command (already split into words). Never throws: errors are
 * printed on `io.err` in zkCli's words and reported as ok=false.
 */
export async function runCommand(
  zk: CliClient,
  words: readonly string[],
  io: CliOutput,
  ctx: ShellContext = oneShotContext(),
): Promise<CommandOutcome> {
  if (words.length === 0) return { ok: true };
  const [name, ...rest] = words;
  if (name === 'quit' || name === 'exit') return { ok: true, quit: true };
  if (name === 'help') {
    // zkCli 3.8 has no help command: it prints the usage list as for any unknown word (stderr).
    io.err(helpText());
    io.err('Command not found: Command not found help');
    return { ok: true };
  }
  if (name in SHELL_COMMANDS) return runShellCommand(zk, name, rest, io, ctx);
  const spec = COMMANDS[name];
  if (!spec) {
    io.err(helpText());
    io.err(`Command not found: Command not found ${name}`);
    return { ok: false };
  }
  let parsed: ParsedCommand;
  // commons-cli's own exceptions print alone, as in zkCli; our messages come with the usage.
  const usageError = (e: Error) =>
    io.err(e.message === '' ? spec.usage : e.message.startsWith('org.apache.commons.cli.') ? e.message : `${e.message}\n${spec.usage}`);
  try {
    parsed = spec.parse ? spec.parse(rest) : parseCommand(spec, rest);
  } catch (e) {
    usageError(e as Error);
    return { ok: false };
  }
  try {
    await spec.run(zk, parsed, io);
    return { ok: true };
  } catch (e) {
    if (e instanceof CliUsageError) usageError(e);
    else if (e instanceof ShellMessage || e instanceof QuotaCommandError) io.err(e.message);
    else io.err(describeError(e, parsed.args[0]));
    return { ok: false };
  }
}

/** history, redo, printwatches, connect, close: the shell's own commands (ZooKeeperMain.processZKCmd). */
async function runShellCommand(zk: CliClient, name: string, args: readonly string[], io: CliOutput, ctx: ShellContext): Promise<CommandOutcome> {
  switch (name) {
    case 'history':
      // The last ten commands and this one, numbered as the prompt numbered them.
      for (let i = ctx.commandCount - 10; i <= ctx.commandCount; i++) {
        if (i < 0) continue;
        io.out(`${i} - ${ctx.history.get(i) ?? 'null'}`);
      }
      return { ok: true };
    case 'redo': {
      if (args.length < 1) {
        io.err(SHELL_COMMANDS.redo);
        return { ok: false };
      }
      const n = /^\d+$/.test(args[0]) ? Number(args[0]) : -1;
      if (n < 0 || n >= ctx.commandCount) {
        io.err('Command index out of range');
        return { ok: false };
      }
      const line = ctx.history.get(n) ?? '';
      let words: string[];
      try {
        words = splitCommandLine(line);
      } catch (e) {
        io.err((e as Error).message);
        return { ok: false };
      }
      if (words[0] === 'redo') {
        io.err('No redoing redos');
        return { ok: false };
      }
      // What ran is what history shows for this number.
      ctx.history.set(ctx.commandCount, line);
      return runCommand(zk, words, io, ctx);
    }
    case 'printwatches':
      if (args.length === 0) io.out(`printwatches is ${ctx.printWatches ? 'on' : 'off'}`);
      else ctx.printWatches = args[0] === 'on';
      return { ok: true };
    case 'connect':
      await ctx.connect(args[0]);
      return { ok: true };
    case 'close':
      await ctx.close();
      return { ok: true };
    default:
      return { ok: true, quit: true };
  }
}

/** Splits a shell line into words: whitespace-separated, with "double" or 'single' quotes (no backslash escapes). */
export function splitCommandLine(line: string): string[] {
  const words = shellWords(line, false);
  if (words === null) throw new CliUsageError('unterminated quote');
  return words;
}

export const COMMAND_NAMES = [...Object.keys(COMMANDS), ...Object.keys(SHELL_COMMANDS), 'help'].sort();
