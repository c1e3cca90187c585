/**
 * An exclusive lock on a server's dataDir (and dataLogDir), so that two
 * servers never write the same txn log: the second would append to logs the
 * first also appends to, and the next start would cut acknowledged writes
 * off as a "torn tail".
 *
 * The lock is a file, <dir>/zookeeper-ts.lock, created with O_EXCL (through
 * link(2), which is atomic and never replaces an existing file). It records
 * the holder's pid, the kernel's start time of that process (Linux,
 * /proc/<pid>/stat), the host and a random token. A lock whose process is
 * gone (or whose pid now belongs to another process, or is a zombie) is
 * stale and is taken over, so a kill -9 never needs a manual clean-up. A
 * lock held by a live process (including another store in this process) is
 * refused with DataDirLockedError naming the holder.
 *
 * Why not proper-lockfile: it judges staleness by the lock's age (mtime,
 * refreshed by a timer), so a restart right after kill -9 must wait out the
 * stale period, and an event loop stalled longer than that period (a large
 * snapshot load on a busy machine) lets a second server steal a live lock,
 * which is exactly the data loss this lock exists to prevent.
 *
 * Apache ZooKeeper ignores the file, so Apache can still start on a dataDir
 * we wrote (stop our server first: Apache takes no lock).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PersistError } from './errors';

/** The lock file's name inside a locked directory. */
export const LOCK_FILE_NAME = 'zookeeper-ts.lock';

/** What a lock file records about its holder. */
export interface LockOwner {
  /** The holder's process id. */
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), so a recycled pid is not mistaken for the holder. */
  startTime: string | null;
  /** The holder's host name. */
  host: string;
  /** A random token naming this hold of the lock. */
  token: string;
  /** ISO time the lock was taken, for people reading the file. */
  since: string;
}

/**
 * Another live process (or another store in this process) holds the
 * directory: what ZooKeeperServer.start rejects with when a second server is
 * pointed at a dataDir (or dataLogDir) in use. A lock left by a dead process
 * is taken over, never reported.
 */
export class DataDirLockedError extends PersistError {
  /** @internal */
  constructor(
    /** The directory that is in use. */
    readonly dir: string,
    /** The lock file (`<dir>/zookeeper-ts.lock`). */
    readonly lockFile: string,
    /** What the lock file says about its holder; null when it could not be read. */
    readonly owner: LockOwner | null,
    detail: string,
  ) {
    super(
      `${dir} is in use by ${detail}; two servers on one data directory would lose acknowledged writes. ` +
        `Stop that server, or give this one another directory (dataDir / dataLogDir in zoo.cfg, ZK_DATA_DIR for npm start).`,
    );
  }
}

/** Locks held by this process, by lock-file path, so a second store in the same process is refused too. */
const heldHere = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits without closing its stores leaves no lock behind (a crash leaves a stale one, taken over later).
  process.on('exit', () => {
    for (const [file, token] of heldHere) removeIfOurs(file, token);
  });
}

/** The start time of `pid` (field 22 of /proc/<pid>/stat), null where /proc is not available or the process is gone. */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** State (field 3) and start time (field 22) of /proc/<pid>/stat; the command name before them may hold spaces and parentheses. */
function readProcStat(pid: number): { state: string; startTime: string | null } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After "pid (comm) " come fields 3, 4, ...: field n is at index n - 3.
  const rest = text.slice(close + 2).trim().split(/\s+/);
  return { state: rest[0], startTime: rest[22 - 3] ?? null };
}

const hasProc = (() => {
  try {
    return fs.existsSync('/proc/self/stat');
  } catch {
    return false;
  }
})();

/** True when the process that wrote `owner` is still running on this host (a zombie or a recycled pid is not). */
export function ownerIsAlive(owner: LockOwner): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const stat = readProcStat(owner.pid);
  if (stat === null) return false;
  // Z: exited, waiting for its parent to reap it; X: dead.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  if (owner.startTime !== null && stat.startTime !== null && stat.startTime !== owner.startTime) return false;
  return true;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.token !== 'string' || typeof o.host !== 'string') return null;
    return { pid: o.pid, startTime: typeof o.startTime === 'string' ? o.startTime : null, host: o.host, token: o.token, since: String(o.since ?? '') };
  } catch {
    return null;
  }
}

function readOwner(file: string): { text: string; owner: LockOwner | null } | null {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return { text, owner: parseOwner(text) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function removeIfOurs(file: string, token: string): void {
  try {
    const now = readOwner(file);
    if (now?.owner?.token === token) fs.unlinkSync(file);
  } catch {
    // Gone already, or unreadable: nothing of ours to remove.
  }
}

function describe(owner: LockOwner | null): string {
  if (owner === null) return 'an unreadable lock';
  const where = owner.host === os.hostname() ? '' : ` on host ${owner.host}`;
  const self = owner.pid === process.pid && owner.host === os.hostname() ? ' (this process)' : '';
  return `process ${owner.pid}${where}${self}, since ${owner.since}`;
}

/** A held lock on one or more directories; release() gives them all back. */
export class DataDirLock {
  private released = false;

  private constructor(private readonly held: Array<{ file: string; token: string }>) {}

  /** The lock files held. */
  get files(): string[] {
    return this.held.map((h) => h.file);
  }

  /**
   * Locks every directory (duplicates and equal paths count once), creating
   * them if needed; all or nothing. Throws DataDirLockedError when one is held.
   * Example: `const lock = DataDirLock.acquire([dataDir, dataLogDir]); ... lock.release();`
   */
  static acquire(dirs: readonly string[]): DataDirLock {
    const unique = [...new Set(dirs.map((d) => path.resolve(d)))];
    const held: Array<{ file: string; token: string }> = [];
    try {
      for (const dir of unique) held.push(lockOne(dir));
    } catch (e) {
      for (const h of held) releaseOne(h);
      throw e;
    }
    return new DataDirLock(held);
  }

  /** Removes the lock files (only if they are still ours); idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const h of this.held) releaseOne(h);
  }
}

function releaseOne(h: { file: string; token: string }): void {
  if (heldHere.get(h.file) === h.token) heldHere.delete(h.file);
  removeIfOurs(h.file, h.token);
}

function lockOne(dir: string): { file: string; token: string } {
  fs.mkdirSync(dir, { recursive: true });
  // The real path, so two spellings of one directory (symlinks) share one lock.
  const file = path.join(fs.realpathSync(dir), LOCK_FILE_NAME);
  if (heldHere.has(file)) {
    throw new DataDirLockedError(dir, file, readOwner(file)?.owner ?? null, 'another server in this process');
  }
  const owner: LockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: os.hostname(),
    token: crypto.randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const text = `${JSON.stringify(owner)}\n`;
  // Written in full under a private name first, then linked into place: readers never see a half-written lock.
  const candidate = `${file}.${process.pid}.${owner.token}`;
  fs.writeFileSync(candidate, text, { flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        fs.linkSync(candidate, file);
        heldHere.set(file, owner.token);
        installExitHook();
        return { file, token: owner.token };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = readOwner(file);
      if (current === null) continue; // released between our link and read: try again
      const o = current.owner;
      if (o !== null && o.host !== os.hostname()) {
        throw new DataDirLockedError(dir, file, o, `${describe(o)} (cannot check a process on another host: delete ${file} if it is gone)`);
      }
      if (o === null) {
        // Unparseable: a lock from something else, or damaged. Refuse rather than guess.
        throw new DataDirLockedError(dir, file, null, `an unreadable lock file ${file} (delete it if no server uses ${dir})`);
      }
      // Our own pid with no entry in heldHere (checked above) is a lock this process failed to remove: stale.
      const ours = o.pid === process.pid && o.startTime === owner.startTime;
      if (!ours && ownerIsAlive(o)) throw new DataDirLockedError(dir, file, o, describe(o));
      takeOverStale(file, current.text);
    }
    throw new DataDirLockedError(dir, file, readOwner(file)?.owner ?? null, 'other processes racing for it');
  } finally {
    fs.rmSync(candidate, { force: true });
  }
}

/**
 * Removes a stale lock without ever removing a fresh one that a racing
 * process put there meanwhile: move it aside atomically, check that what was
 * moved is the stale lock that was judged, and put it back if it is not.
 */
function takeOverStale(file: string, staleText: string): void {
  const aside = `${file}.stale.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
    throw e;
  }
  let moved = '';
  try {
    moved = fs.readFileSync(aside, 'utf8');
  } catch {
    // unreadable: treated as not the stale lock, put back below
  }
  if (moved !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process locked it meanwhile; the one we moved loses its file, and its owner's release is then a no-op.
    }
  }
  fs.rmSync(aside, { force: true });
}
