/**
 * Free loopback ports for test servers (the testing kit's and test/harness's).
 *
 * Why not just bind port 0 and release: the kernel hands out port-0 binds
 * from the same ephemeral range (32768-60999 here) it uses for the local end
 * of outgoing connections, so a port released now can be taken by a client
 * socket before the server binds it, and a server restarted on its old port
 * may find it held by one of its own clients' sockets. We therefore probe
 * random ports BELOW the ephemeral range, bind each to prove it is free, and
 * claim it with an O_EXCL lock file so that two jest workers (separate
 * processes) never hand out the same port. Lock files are removed on exit;
 * a lock left by a dead process is taken over.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { isAlive } from '../cli/zk-server';

const LOW = 20000;
const HIGH = 32000; // below /proc/sys/net/ipv4/ip_local_port_range's start
const LOCK_DIR = path.join(os.tmpdir(), 'zookeeper-ts-test-ports');

const claimed = new Set<number>();
let exitHookInstalled = false;

/** Claims `port` for this process through a lock file; false if another live process holds it. */
function claimLock(port: number): boolean {
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  const file = path.join(LOCK_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(file, 'utf8'));
      } catch {
        continue; // removed between our open and read: try again
      }
      if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && isAlive(owner))) return false;
      try {
        fs.unlinkSync(file); // stale: its owner is gone
      } catch {
        /* someone else removed it first */
      }
    }
  }
  return false;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const port of claimed) {
      try {
        fs.unlinkSync(path.join(LOCK_DIR, String(port)));
      } catch {
        /* already gone */
      }
    }
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Returns `count` distinct free loopback ports, never handed out before by
 * this process nor currently held by another test process.
 * Example: `const [client, quorum, election] = await freePorts(3);`
 */
export async function freePorts(count: number): Promise<number[]> {
  installExitHook();
  const out: number[] = [];
  let tries = 0;
  while (out.length < count) {
    if (++tries > 5000) throw new Error(`freePorts: could not find ${count} free ports in [${LOW}, ${HIGH})`);
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (claimed.has(port)) continue;
    if (!(await canBind(port))) continue;
    if (!claimLock(port)) continue;
    claimed.add(port);
    out.push(port);
  }
  return out;
}

/** One free port; see freePorts. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}
