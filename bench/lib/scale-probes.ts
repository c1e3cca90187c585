/**
 * What the scale benchmark reads from a server process from the outside
 * (the bench never calls server internals): its resident memory, its heap
 * after a full GC, whether it answers a read yet, its zxid, and when it
 * writes a snapshot.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { heapAfterGc } from '../../test/harness/our-cluster';
import type { ServerHandle } from '../../src/testing';
import { fourLetterWord } from '../../src/testing/four-letter-words';

/** VmRSS of a process, in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The JDK's jcmd beside the java binary the benchmarks run (the Debian JDK puts both in one bin/), if there. */
export function jcmdPath(): string | undefined {
  const candidates = [process.env.JCMD, '/usr/bin/jcmd'];
  try {
    candidates.push(path.join(path.dirname(fs.realpathSync('/usr/bin/java')), 'jcmd'));
  } catch {
    /* no java: Apache does not run either */
  }
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Java heap in use after a full GC: `jcmd <pid> GC.run` (System.gc(), a full
 * collection with G1), then the `used` of every heap space GC.heap_info lists
 * (G1's one "garbage-first heap" line; young + tenured for the serial and
 * parallel collectors), in bytes. Metaspace is not heap and is not counted.
 */
export async function javaHeapAfterGc(pid: number): Promise<number> {
  const jcmd = jcmdPath();
  if (!jcmd) throw new Error('jcmd not found');
  await run(jcmd, [String(pid), 'GC.run'], 60_000);
  const info = await run(jcmd, [String(pid), 'GC.heap_info'], 60_000);
  let used = 0;
  let found = false;
  for (const line of info.split('\n')) {
    if (/Metaspace|class space/.test(line)) continue;
    const m = /total \d+K, used (\d+)K/.exec(line);
    if (m) {
      used += Number(m[1]) * 1024;
      found = true;
    }
  }
  if (!found) throw new Error(`cannot parse jcmd GC.heap_info:\n${info}`);
  return used;
}

/** Our server's V8 heap in use after a full GC (the server runs with --expose-gc; run-our-server.ts answers SIGUSR2). */
export async function ourHeapAfterGc(handle: ServerHandle): Promise<number> {
  return (await heapAfterGc(handle, 30_000)).heapUsed;
}

/** A server's memory at one point: RSS always, heap after GC when it could be read. */
export interface MemorySample {
  rss: number;
  heap?: number;
  heapError?: string;
}

/** Heap after GC first (a GC may shrink RSS), then RSS. */
export async function sampleMemory(kind: 'ours' | 'apache', handle: ServerHandle): Promise<MemorySample> {
  const pid = handle.pid();
  if (pid === undefined) throw new Error(`${kind} server is not running`);
  let heap: number | undefined;
  let heapError: string | undefined;
  try {
    heap = kind === 'ours' ? await ourHeapAfterGc(handle) : await javaHeapAfterGc(pid);
  } catch (err) {
    heapError = (err as Error).message.split('\n')[0];
  }
  // Let the collector's own page returns (madvise) land before RSS is read.
  await new Promise((r) => setTimeout(r, 300));
  return { rss: rssBytes(pid), heap, heapError };
}

// --- does it answer a read yet? -----------------------------------------------

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * One attempt: TCP connect, ConnectRequest, then getData(`znode`), on a raw
 * socket so that no client's reconnect back-off sits between the server
 * becoming ready and us noticing. Resolves true when getData succeeds
 * (err 0), false on refusal, close, a non-zero error or `timeoutMs`.
 */
export function answersRead(port: number, znode: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    let stage: 'handshake' | 'read' = 'handshake';
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('connect', () => {
      // ConnectRequest: protocolVersion 0, lastZxidSeen 0, timeOut 30 s, sessionId 0, 16-byte zero password, readOnly false.
      const body = Buffer.alloc(45);
      body.writeInt32BE(30_000, 12);
      body.writeInt32BE(16, 24);
      sock.write(frame(body));
    });
    sock.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const len = buffered.readInt32BE(0);
        const msg = buffered.subarray(4, 4 + len);
        buffered = buffered.subarray(4 + len);
        if (stage === 'handshake') {
          stage = 'read';
          // getData: xid 1, type 4, path, watch false.
          const p = Buffer.from(znode, 'utf8');
          const req = Buffer.alloc(8 + 4 + p.length + 1);
          req.writeInt32BE(1, 0);
          req.writeInt32BE(4, 4);
          req.writeInt32BE(p.length, 8);
          p.copy(req, 12);
          sock.write(frame(req));
        } else if (msg.length >= 16 && msg.readInt32BE(0) === 1) {
          finish(msg.readInt32BE(12) === 0);
          return;
        }
      }
    });
  });
}

/**
 * Launches a stopped server on its old dataDir and times how long until it
 * answers getData(`znode`) on its client port: the wall time a user waits
 * after a restart (process start, JVM or Node start-up, loading the
 * snapshot and replaying the log after it, and whatever else the server does
 * before serving). Polls every 20 ms; gives up after `timeoutMs`.
 */
export async function timeRestartUntilRead(handle: ServerHandle & { launch(): void }, znode: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  handle.launch();
  const deadline = t0 + timeoutMs;
  for (;;) {
    if (!handle.running()) throw new Error(`server exited during start-up:\n${handle.logTail(30)}`);
    if (await answersRead(handle.clientPort, znode, 500)) return performance.now() - t0;
    if (performance.now() > deadline) throw new Error(`no answer to getData(${znode}) within ${timeoutMs} ms:\n${handle.logTail(30)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** srvr's Mode and Zxid (as a bigint) of the server on `port`, or undefined while it does not serve. */
export async function srvrZxid(port: number): Promise<{ mode: string; zxid: bigint } | undefined> {
  try {
    const out = await fourLetterWord('127.0.0.1', port, 'srvr', 1000);
    const mode = /^Mode: (\S+)/m.exec(out)?.[1];
    const zxid = /^Zxid: (0x[0-9a-fA-F]+)/m.exec(out)?.[1];
    if (!mode || !zxid) return undefined;
    return { mode, zxid: BigInt(zxid) };
  } catch {
    return undefined;
  }
}

// --- snapshot windows ----------------------------------------------------------

/** One snapshot a server wrote while we watched. */
export interface SnapshotSeen {
  /** The zxid in its file name (the last txn it is exact or fuzzy at). */
  zxid: bigint;
  /** performance.now() when its file (temp or final) was first seen. */
  firstSeen: number;
  /** performance.now() when it was last seen growing, or renamed into place. */
  lastChange: number;
  /** True once the final `snapshot.<zxid>` exists, no temp file is left, and its size held still for STABLE_MS. */
  done: boolean;
  bytes: number;
  /** Whether it was final, and its size, at the last poll. */
  state: string;
}

const STABLE_MS = 60;

/**
 * Polls `<dataDir>/version-2` for snapshot files that appear after start():
 * Apache writes `snapshot.<zxid>.tmp` then renames it (or writes
 * `snapshot.<zxid>` directly), ours writes `tmp.snapshot.<zxid>.*` then
 * renames. Polling (readdir + stat every `intervalMs`) is cheap next to the
 * request it runs between, and needs nothing from the server.
 */
export class SnapshotWatcher {
  private readonly dir: string;
  private readonly before = new Set<string>();
  private readonly seen = new Map<string, SnapshotSeen>();
  private timer?: NodeJS.Timeout;

  constructor(dataDir: string, private readonly intervalMs = 10) {
    this.dir = path.join(dataDir, 'version-2');
  }

  start(): void {
    for (const f of this.list()) if (/^snapshot\.[0-9a-f]+$/.test(f)) this.before.add(f);
    this.timer = setInterval(() => this.poll(), this.intervalMs);
  }

  stop(): SnapshotSeen[] {
    if (this.timer) clearInterval(this.timer);
    this.poll();
    return [...this.seen.values()].sort((a, b) => a.firstSeen - b.firstSeen);
  }

  private list(): string[] {
    try {
      return fs.readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  private poll(): void {
    const now = performance.now();
    const files = this.list();
    const finals = new Set<string>();
    const temps = new Map<string, string>();
    for (const f of files) {
      let m = /^snapshot\.([0-9a-f]+)$/.exec(f);
      if (m) {
        if (!this.before.has(f)) finals.add(m[1]);
        continue;
      }
      m = /^snapshot\.([0-9a-f]+)\.tmp$/.exec(f) ?? /^tmp\.snapshot\.([0-9a-f]+)\./.exec(f);
      if (m) temps.set(m[1], f);
    }
    for (const hex of new Set([...finals, ...temps.keys()])) {
      const isFinal = !temps.has(hex);
      const name = temps.get(hex) ?? `snapshot.${hex}`;
      let bytes = 0;
      try {
        bytes = fs.statSync(path.join(this.dir, name)).size;
      } catch {
        continue; // renamed between readdir and stat: the next poll sees the final name
      }
      const state = `${isFinal}:${bytes}`;
      let s = this.seen.get(hex);
      if (!s) {
        s = { zxid: BigInt(`0x${hex}`), firstSeen: now, lastChange: now, done: false, bytes, state };
        this.seen.set(hex, s);
      } else if (s.state !== state) {
        // Growing, or renamed into place: the write is still (or was just) going on.
        s.state = state;
        s.bytes = bytes;
        s.lastChange = now;
      }
      if (isFinal && now - s.lastChange >= STABLE_MS) s.done = true;
    }
  }
}
