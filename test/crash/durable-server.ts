/**
 * Our server as a separate process on a data dir, configured the way a
 * durability test needs it: fsync on (the harness's startOurs turns it off
 * for speed, and does not take extra options), a small snapCount so that
 * snapshots are taken (and interrupted) during the test, and the same data
 * dir across kill -9 and restart.
 *
 * It reuses the harness's pieces: ManagedServer (start, SIGKILL, readiness),
 * run-our-server.ts (the child-process entry point) and
 * transpile-cache-register.js (TypeScript transpiled once, cached on disk).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ManagedServer } from '../harness/managed-server';
import { OUR_SERVER_MODULE, ourServerAvailable, readyFileProbe } from '../harness/our-cluster';
import { freePort } from '../harness/ports';
import { makeTempDir, removeTempDir } from '../harness/temp-dirs';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUN_OUR_SERVER = path.join(REPO_ROOT, 'test', 'harness', 'run-our-server.ts');

export interface DurableServer {
  server: ManagedServer;
  connectString: string;
  dataDir: string;
  /** Kills the process (if running) and removes the directory. */
  dispose(): Promise<void>;
}

/** Starts our server with fsync on a fresh temp data dir; restart it with server.start(). */
export async function startDurableServer(options: Record<string, unknown> = {}): Promise<DurableServer> {
  if (!ourServerAvailable()) throw new Error(`our server is not there yet (${OUR_SERVER_MODULE})`);
  const root = makeTempDir('zk-crash-');
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const clientPort = await freePort();
  const launchFile = path.join(root, 'launch.json');
  const readyFile = path.join(root, 'ready.json');
  fs.writeFileSync(
    launchFile,
    JSON.stringify({
      options: {
        dataDir,
        clientPort,
        clientPortAddress: '127.0.0.1',
        tickTime: 500,
        maxClientCnxns: 0,
        fourLetterWordWhitelist: '*',
        forceSync: true,
        snapCount: 400,
        ...options,
      },
      readyFile,
    }),
  );
  // The harness's cached transpiler: a restart (three per test) starts in well under a second
  // instead of paying ts-node's start-up each time.
  const register = path.join(REPO_ROOT, 'test', 'harness', 'transpile-cache-register.js');
  const server = new ManagedServer({
    id: 1,
    clientPort,
    dataDir,
    dir: root,
    logFiles: [path.join(root, 'server.log')],
    launch: () => {
      fs.rmSync(readyFile, { force: true });
      return {
        command: process.execPath,
        args: ['-r', register, RUN_OUR_SERVER, launchFile],
        env: process.env,
      };
    },
    readyProbe: readyFileProbe(readyFile),
    startTimeoutMs: 60_000,
  });
  try {
    await server.start();
  } catch (err) {
    await server.kill();
    removeTempDir(root);
    throw err;
  }
  return {
    server,
    connectString: server.hostPort,
    dataDir,
    async dispose() {
      await server.kill();
      removeTempDir(root);
    },
  };
}
