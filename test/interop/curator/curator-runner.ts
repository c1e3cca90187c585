/**
 * Compiles CuratorContender.java with javac (once per process, into a temp
 * dir) against Debian's Curator 5.4 jars (libcurator-recipes-java) and
 * starts contenders whose HOLD/FREE lines feed a test's shared record.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const JARS = ['curator-client', 'curator-framework', 'curator-recipes', 'zookeeper', 'zookeeper-jute', 'guava', 'failureaccess', 'slf4j-api', 'slf4j-nop'];

function classpath(): string {
  return JARS.map((j) => `/usr/share/java/${j}.jar`).filter((f) => fs.existsSync(f)).join(':');
}

/** True when javac and the Curator recipes jar are installed. */
export function curatorAvailable(): boolean {
  return fs.existsSync('/usr/share/java/curator-recipes.jar') && fs.existsSync('/usr/share/java/zookeeper.jar') && hasJavac();
}

function hasJavac(): boolean {
  try {
    execFileSync('javac', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let compiled: string | null = null;

/** Compiles the contender (once) and returns its class directory; the caller removes it with cleanupCurator(). */
export function compileCurator(): string {
  if (compiled !== null) return compiled;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'curator-contender-'));
  execFileSync('javac', ['-d', dir, '-cp', classpath(), path.join(__dirname, 'CuratorContender.java')], { stdio: 'pipe' });
  compiled = dir;
  return dir;
}

export function cleanupCurator(): void {
  if (compiled !== null) fs.rmSync(compiled, { recursive: true, force: true });
  compiled = null;
}

export interface CuratorContender {
  proc: ChildProcess;
  /** Resolves when the contender printed READY (connected). */
  ready: Promise<void>;
  /** Resolves with the exit code once it printed DONE and exited. */
  done: Promise<number | null>;
  output: string[];
}

/** Starts one Curator contender; `onLine` gets each HOLD/FREE line as it arrives. */
export function startCurator(connect: string, kind: string, zkPath: string, rounds: number, holdMs: number, onLine: (line: string) => void): CuratorContender {
  const dir = compileCurator();
  const proc = spawn('java', ['-Xss512k', '-XX:+UseSerialGC', '-cp', `${dir}:${classpath()}`, 'CuratorContender', connect, kind, zkPath, String(rounds), String(holdMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let readyFn!: () => void;
  const ready = new Promise<void>((r) => (readyFn = r));
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      output.push(line);
      if (line === 'READY') readyFn();
      onLine(line);
    }
  });
  proc.stderr!.on('data', (d: Buffer) => output.push(`stderr: ${d.toString().trim()}`));
  const done = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, ready, done, output };
}
