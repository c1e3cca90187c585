/**
 * Runs Apache's own command-line client (org.apache.zookeeper.ZooKeeperMain
 * from the Debian `zookeeper` package) against a server, feeding it a whole
 * script on stdin so one JVM start serves many commands.
 *
 * To tell which output belongs to which command, every command is followed
 * by `get <marker-path>` for a path that does not exist: the CLI answers
 * "Node does not exist: <marker-path>", a unique line that closes the
 * section. stdout and stderr go to the same file descriptor, because the CLI
 * prints results on stdout but "Created ..." and errors on stderr, and the
 * interleaving is only preserved through a single fd.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JAVA, ZOOKEEPER_JAR } from '../harness/apache-cluster';

export interface CliStep {
  command: string;
  /** Everything the CLI printed for this command, trimmed. */
  output: string;
}

export interface CliRun {
  steps: CliStep[];
  /** The whole merged transcript, for failure messages. */
  transcript: string;
  exitCode: number | null;
}

const MARKER_PREFIX = '/__cli_marker__';

/** True when Java and Apache's zookeeper.jar are installed. */
export function javaCliAvailable(): boolean {
  return fs.existsSync(JAVA) && fs.existsSync(ZOOKEEPER_JAR);
}

/**
 * Runs `commands` in one interactive ZooKeeperMain connected to `hostPort`
 * and splits its output per command. Rejects if the JVM does not finish
 * within `timeoutMs`.
 * Example: `(await runCli('127.0.0.1:2181', ['ls /'])).steps[0].output === '[zookeeper]'`
 */
export async function runCli(hostPort: string, commands: string[], timeoutMs = 60_000): Promise<CliRun> {
  const script: string[] = [];
  commands.forEach((c, i) => {
    script.push(c, `get ${MARKER_PREFIX}${i}`);
  });
  script.push('quit', '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-'));
  const outFile = path.join(dir, 'out.txt');
  const fd = fs.openSync(outFile, 'w');
  let exitCode: number | null;
  try {
    const child = spawn(
      JAVA,
      ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', ZOOKEEPER_JAR, 'org.apache.zookeeper.ZooKeeperMain', '-server', hostPort],
      { stdio: ['pipe', fd, fd] },
    );
    child.stdin!.end(script.join('\n'));
    exitCode = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ZooKeeperMain did not finish within ${timeoutMs} ms; output so far:\n${fs.readFileSync(outFile, 'utf8')}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
      child.on('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  } finally {
    fs.closeSync(fd);
  }
  const transcript = fs.readFileSync(outFile, 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });
  return { steps: splitSteps(commands, transcript), transcript, exitCode };
}

function splitSteps(commands: string[], transcript: string): CliStep[] {
  // Drop the JVM's and the CLI's own noise (SLF4J warnings, connection banners, watcher events).
  const lines = transcript
    .split('\n')
    .filter((l) => !/^SLF4J:/.test(l))
    .filter((l) => !/^(Connecting to |Welcome to ZooKeeper!|JLine support is)/.test(l))
    .filter((l) => !/^(WATCHER::|WatchedEvent state:)/.test(l));
  const steps: CliStep[] = [];
  let current: string[] = [];
  for (const line of lines) {
    const m = /^Node does not exist: \/__cli_marker__(\d+)$/.exec(line.trim());
    if (m) {
      const i = Number(m[1]);
      steps[i] = { command: commands[i], output: current.join('\n').trim() };
      current = [];
    } else {
      current.push(line);
    }
  }
  // A command whose marker never came (the CLI died or hung) keeps an explicit hole.
  return commands.map((c, i) => steps[i] ?? { command: c, output: '<no output: the CLI never got past this command>' });
}

/** The `name = value` lines of a stat as printed by `get -s`, `ls -s` and `stat`. */
export function parseStat(output: string): Record<string, string> {
  const stat: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const m = /^(\w+) = (.*)$/.exec(line.trim());
    if (m) stat[m[1]] = m[2];
  }
  return stat;
}
