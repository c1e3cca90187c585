/**
 * The commands of zk-cli, a zkCli.sh-style shell over our client SDK. Output
 * and error texts follow Apache's zkCli (3.8) so that scripts and habits
 * carry over: `Created /a`, `[a, b]`, the `cZxid = 0x...` stat block,
 * `'world,'anyone` / `: cdrwa` for ACLs, `Node does not exist: /a`.
 *
 * Parsing and formatting are separate from the terminal: `runCommand` takes
 * the argument words and an output sink, so tests drive it directly.
 */
import { ACL, ClientInfo, Id, Stat } from '../proto/generated';
import { CreateMode, ErrorCode, EventType, KeeperState, Perms } from '../proto/constants';
import { KeeperError } from '../client/errors';
import type { WatchedEvent, Watcher } from '../client/watch-manager';
import { javaDate, javaHex } from '../server/net/four-letter-words';

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
  close(): Promise<void>;
}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
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
    default:
      return e.message;
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
  return (e: WatchedEvent) => io.out(`\nWATCHER::\n\n${formatWatchedEvent(e)}\n`);
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
      io.out(`Created ${created}`);
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
    usage: 'whoami',
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
};

/** Usage lines of every command, as `help` prints them. */
export function helpText(): string {
  const lines = ['ZooKeeper -server host:port -client-configuration properties-file cmd args'];
  for (const name of Object.keys(COMMANDS).sort()) lines.push(`\t${COMMANDS[name].usage}`);
  lines.push('\thelp', '\tquit');
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
          else throw new CliUsageError(`option -${l} needs a value`);
          break;
        }
        if (!spec.flags.includes(l)) throw new CliUsageError(`unknown option -${l}`);
        opts.set(l, true);
      }
    } else {
      args.push(w);
    }
  }
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    throw new CliUsageError(args.length < spec.minArgs ? 'missing argument' : `too many arguments: ${args.slice(spec.maxArgs).join(' ')}`);
  }
  return { opts, args };
}

/**
 * Runs one command (already split into words). Never throws: errors are
 * printed on `io.err` in zkCli's words and reported as ok=false.
 */
export async function runCommand(zk: CliClient, words: readonly string[], io: CliOutput): Promise<CommandOutcome> {
  if (words.length === 0) return { ok: true };
  const [name, ...rest] = words;
  if (name === 'quit' || name === 'exit') return { ok: true, quit: true };
  if (name === 'help') {
    io.out(helpText());
    return { ok: true };
  }
  const spec = COMMANDS[name];
  if (!spec) {
    io.err(`Command not found: Command not found ${name}`);
    io.err(helpText());
    return { ok: false };
  }
  let parsed: ParsedCommand;
  try {
    parsed = parseCommand(spec, rest);
  } catch (e) {
    io.err(`${(e as Error).message}\n${spec.usage}`);
    return { ok: false };
  }
  try {
    await spec.run(zk, parsed, io);
    return { ok: true };
  } catch (e) {
    if (e instanceof CliUsageError) io.err(`${e.message}\n${spec.usage}`);
    else io.err(describeError(e, parsed.args[0]));
    return { ok: false };
  }
}

/** Splits a shell line into words: whitespace-separated, with "double" or 'single' quotes. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
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
  if (quote) throw new CliUsageError('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}

export const COMMAND_NAMES = [...Object.keys(COMMANDS), 'help', 'quit'];
