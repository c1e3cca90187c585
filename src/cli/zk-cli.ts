/**
 * zk-cli: a zkCli.sh-style shell over our client SDK.
 *
 *   zk-cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [cmd args...]
 *
 * With a command it runs that one command and exits (0 on success, 1 on
 * error); without one it opens an interactive shell (`help` lists the
 * commands, `quit` leaves). -server defaults to 127.0.0.1:2181, -timeout is
 * the session timeout (default 30000, like zkCli), -r accepts a read-only
 * server. Watch events (get -w, ls -w, stat -w, addWatch) print as zkCli
 * prints them, unless `printwatches off`.
 *
 * Like zkCli, the interactive shell prints "Connecting to <servers>" and
 * shows its prompt at once, saying CONNECTING until the session is up; Tab
 * completes command names and znode paths. When one pass over the servers
 * finds every one refusing connections, the shell says so right away (a
 * one-shot command then exits 1) rather than after the client's connect
 * timeout.
 */
import * as readline from 'readline';
import { ZooKeeper } from '../client/zookeeper';
import type { WatchedEvent } from '../client/watch-manager';
import { KeeperState } from '../proto/constants';
import { CliOutput, CliUsageError, COMMAND_NAMES, formatWatchedEvent, runCommand, ShellContext, splitCommandLine } from './zk-cli-commands';
import { completeLine } from './shell/completion';
import { describeRefusal, probeHosts } from './shell/reachability';

export const CLI_USAGE = 'Usage: zk-cli [-server host:port[/chroot]] [-timeout ms] [-r] [cmd args...]';

export interface CliArgs {
  server: string;
  timeout: number;
  readOnly: boolean;
  command: string[];
  /** Warnings about accepted but unused options, printed on stderr. */
  ignored: string[];
}

/** Parses zkCli's leading options; everything after the first non-option word is the command. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { server: '127.0.0.1:2181', timeout: 30000, readOnly: false, command: [], ignored: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-server') {
      if (i + 1 >= argv.length) throw new CliUsageError('-server needs host:port');
      out.server = argv[++i];
    } else if (a === '-timeout') {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new CliUsageError(`-timeout needs a number of milliseconds: ${v ?? ''}`);
      out.timeout = Number(v);
    } else if (a === '-r') {
      out.readOnly = true;
    } else if (a === '-waitforconnection') {
      // zkCli waits for the connection before running a command; we always do.
    } else if (a === '-client-configuration') {
      // zkCli's Java client properties file (secure client, SASL, ...): accepted, and reported as unused.
      if (i + 1 >= argv.length) throw new CliUsageError('-client-configuration needs a properties file');
      out.ignored.push(`-client-configuration ${argv[++i]} is not supported by zk-cli; ignored`);
    } else {
      break;
    }
  }
  out.command = argv.slice(i);
  return out;
}

const STATE_NAMES = new Map<number, string>(Object.entries(KeeperState).map(([k, v]) => [v, k]));

/** zkCli's prompt label: CONNECTED for SyncConnected, else the state name upper-cased. */
export function stateLabel(state: number): string {
  if (state === KeeperState.SyncConnected) return 'CONNECTED';
  if (state === KeeperState.ConnectedReadOnly) return 'CONNECTEDREADONLY';
  if (state === KeeperState.Disconnected) return 'CONNECTING';
  return (STATE_NAMES.get(state) ?? String(state)).toUpperCase();
}

export interface CliMainIo extends CliOutput {
  input?: NodeJS.ReadableStream;
  /** Where the interactive prompt and line editing go (default process.stdout). */
  output?: NodeJS.WritableStream;
  isTTY?: boolean;
}

/** The interactive shell's state: the current handle (connect/close replace it), history, printwatches. */
class ShellSession implements ShellContext {
  history = new Map<number, string>();
  commandCount = 0;
  printWatches = true;
  zk!: ZooKeeper;
  /** Called after a state change is printed, to show a fresh prompt. */
  onStateChange: () => void = () => undefined;
  private probing: Promise<void> | null = null;

  constructor(
    public server: string,
    private readonly args: CliArgs,
    private readonly io: CliMainIo,
  ) {}

  /** Opens a handle to `server` and starts one reachability pass over its hosts. */
  open(): void {
    this.io.out(`Connecting to ${this.server}`);
    const zk = new ZooKeeper(this.server, {
      sessionTimeout: this.args.timeout,
      canBeReadOnly: this.args.readOnly,
      defaultWatcher: (e: WatchedEvent) => {
        if (this.zk !== zk) return;
        if (this.printWatches) this.io.out(`\nWATCHER::\n\n${formatWatchedEvent(e)}\n`);
        if (e.path === null) this.onStateChange();
      },
    });
    // Unreachable servers come as 'error' events; the probe below reports them sooner, in zkCli's place.
    zk.on('error', (err) => {
      if (this.zk === zk) this.io.err(err.message);
    });
    this.zk = zk;
    this.probing = probeHosts(this.server).then(
      (r) => {
        if (this.zk === zk && r.allRefused && zk.state !== KeeperState.SyncConnected) {
          this.io.err(describeRefusal(this.server, r));
          this.onStateChange();
        }
      },
      () => undefined,
    );
  }

  async connect(connectString?: string): Promise<void> {
    await this.zk.close().catch(() => undefined);
    if (connectString !== undefined) this.server = connectString;
    this.open();
  }

  async close(): Promise<void> {
    await this.zk.close().catch(() => undefined);
    this.onStateChange();
  }

  async dispose(): Promise<void> {
    await this.zk.close().catch(() => undefined);
    await this.probing;
  }
}

/** Runs zk-cli; resolves with the exit code. */
export async function zkCliMain(argv: readonly string[], io: CliMainIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${CLI_USAGE}`);
    return 2;
  }
  for (const w of args.ignored) io.err(w);
  if (args.command.length === 0) return shell(args, io);
  return oneShot(args, io);
}

/** One command: wait for the session (or one pass finding every server refusing), run, exit. */
async function oneShot(args: CliArgs, io: CliMainIo): Promise<number> {
  // stdout stays the command's output alone, for scripts; zkCli's "Connecting to" line goes to stderr.
  io.err(`Connecting to ${args.server}`);
  let zk: ZooKeeper;
  try {
    zk = new ZooKeeper(args.server, { sessionTimeout: args.timeout, canBeReadOnly: args.readOnly });
  } catch (e) {
    io.err(`Unable to connect to ${args.server}: ${(e as Error).message}`);
    return 1;
  }
  // The handle reports unreachable servers as 'error' events; connected() below turns that into an exit code.
  zk.on('error', () => undefined);
  try {
    const refused = probeHosts(args.server).then((r) => (r.allRefused ? describeRefusal(args.server, r) : new Promise<never>(() => undefined)));
    const outcome = await Promise.race([zk.connected().then(() => null), refused]);
    if (outcome !== null) {
      io.err(outcome);
      await zk.close().catch(() => undefined);
      return 1;
    }
  } catch (e) {
    io.err(`Unable to connect to ${args.server}: ${(e as Error).message}`);
    await zk.close().catch(() => undefined);
    return 1;
  }
  try {
    return (await runCommand(zk, args.command, io)).ok ? 0 : 1;
  } finally {
    await zk.close().catch(() => undefined);
  }
}

async function shell(args: CliArgs, io: CliMainIo): Promise<number> {
  const session = new ShellSession(args.server, args, io);
  try {
    session.open();
  } catch (e) {
    io.err(`Unable to connect to ${args.server}: ${(e as Error).message}`);
    return 1;
  }
  io.out('Welcome to ZooKeeper!');
  const terminal = io.isTTY ?? process.stdin.isTTY ?? false;
  const rl = readline.createInterface({
    input: io.input ?? process.stdin,
    // Like zkCli without JLine, no prompt when the input is not a terminal (piped commands).
    output: terminal ? (io.output ?? process.stdout) : undefined,
    terminal,
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => {
      completeLine(line, COMMAND_NAMES, session.zk).then(
        (r) => cb(null, r),
        () => cb(null, [[], line]),
      );
    },
  });
  const promptText = () => `[zk: ${session.server}(${stateLabel(session.zk.state)}) ${session.commandCount}] `;
  let busy = false;
  let closed = false;
  const prompt = () => {
    if (closed) return;
    rl.setPrompt(promptText());
    rl.prompt(true);
  };
  // A state change while the user waits at the prompt: show the prompt again with the new state.
  session.onStateChange = () => {
    if (!busy) setImmediate(prompt);
  };
  prompt();
  try {
    for await (const line of rl) {
      let words: string[];
      try {
        words = splitCommandLine(line);
      } catch (e) {
        io.err((e as Error).message);
        prompt();
        continue;
      }
      if (words.length === 0) {
        prompt();
        continue;
      }
      session.history.set(session.commandCount, line);
      busy = true;
      const outcome = await runCommand(session.zk, words, { ...io, watchesOn: () => session.printWatches }, session);
      busy = false;
      session.commandCount++;
      if (outcome.quit) break;
      prompt();
    }
  } finally {
    closed = true;
    rl.close();
    await session.dispose();
  }
  return 0;
}

/** Entry point for bin/zk-cli. */
export function main(): void {
  const io: CliMainIo = {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  };
  zkCliMain(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`zk-cli: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
