/**
 * zk-cli: a zkCli.sh-style shell over our client SDK.
 *
 *   zk-cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [cmd args...]
 *
 * With a command it runs that one command and exits (0 on success, 1 on
 * error); without one it opens an interactive shell (`help` lists the
 * commands, `quit` leaves). -server defaults to 127.0.0.1:2181, -timeout is
 * the session timeout (default 30000, like zkCli), -r accepts a read-only
 * server. Watch events (get -w, ls -w, stat -w) print as zkCli prints them.
 */
import * as readline from 'readline';
import { ZooKeeper } from '../client/zookeeper';
import type { WatchedEvent } from '../client/watch-manager';
import { KeeperState } from '../proto/constants';
import { CliOutput, CliUsageError, COMMAND_NAMES, formatWatchedEvent, runCommand, splitCommandLine } from './zk-cli-commands';

export const CLI_USAGE = 'Usage: zk-cli [-server host:port[/chroot]] [-timeout ms] [-r] [cmd args...]';

export interface CliArgs {
  server: string;
  timeout: number;
  readOnly: boolean;
  command: string[];
}

/** Parses zkCli's leading options; everything after the first non-option word is the command. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { server: '127.0.0.1:2181', timeout: 30000, readOnly: false, command: [] };
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
  return (STATE_NAMES.get(state) ?? String(state)).toUpperCase();
}

export interface CliMainIo extends CliOutput {
  input?: NodeJS.ReadableStream;
  isTTY?: boolean;
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
  const interactive = args.command.length === 0;
  const zk = new ZooKeeper(args.server, {
    sessionTimeout: args.timeout,
    canBeReadOnly: args.readOnly,
    // zkCli prints every state change; in one-shot mode only the events a command asked for matter.
    defaultWatcher: interactive ? (e: WatchedEvent) => io.out(`\nWATCHER::\n\n${formatWatchedEvent(e)}\n`) : undefined,
  });
  // The handle reports unreachable servers as 'error' events; connected() below turns that into an exit code.
  zk.on('error', () => undefined);
  try {
    await zk.connected();
  } catch (e) {
    io.err(`Unable to connect to ${args.server}: ${(e as Error).message}`);
    await zk.close().catch(() => undefined);
    return 1;
  }
  try {
    if (!interactive) return (await runCommand(zk, args.command, io)).ok ? 0 : 1;
    return await shell(zk, args, io);
  } finally {
    await zk.close().catch(() => undefined);
  }
}

async function shell(zk: ZooKeeper, args: CliArgs, io: CliMainIo): Promise<number> {
  const rl = readline.createInterface({
    input: io.input ?? process.stdin,
    output: io.isTTY === false ? undefined : process.stdout,
    terminal: io.isTTY ?? process.stdin.isTTY,
    completer: (line: string) => {
      const hits = COMMAND_NAMES.filter((c) => c.startsWith(line));
      return [hits.length ? hits : COMMAND_NAMES, line];
    },
  });
  let n = 0;
  const prompt = () => {
    rl.setPrompt(`[zk: ${args.server}(${stateLabel(zk.state)}) ${n}] `);
    rl.prompt();
  };
  prompt();
  for await (const line of rl) {
    let words: string[];
    try {
      words = splitCommandLine(line);
    } catch (e) {
      io.err((e as Error).message);
      prompt();
      continue;
    }
    const outcome = await runCommand(zk, words, io);
    if (words.length > 0) n++;
    if (outcome.quit) break;
    prompt();
  }
  rl.close();
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
