/**
 * Child-process entry point that runs the in-repo TypeScript server for the
 * harness, so that kill -9 and restart are real process events.
 *
 *   node -r ./transpile-cache-register.js run-our-server.ts <launch.json>
 *
 * launch.json: { "options": <ZooKeeperServer.start options>, "readyFile": "<path>" }.
 * Once the server listens, writes {"pid", "connectString"} to readyFile.
 * SIGTERM/SIGINT close the server cleanly, then exit 0. SIGUSR2 (with
 * --expose-gc) runs a full GC and writes process.memoryUsage() to heap.json
 * beside launch.json, for the memory tests.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Launch {
  options: Record<string, unknown>;
  readyFile: string;
}

interface EmbeddedServer {
  connectString: string;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const launch = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Launch;
  // Required lazily: the server module is built in parallel with this harness.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(path.join(__dirname, '..', '..', 'src', 'server')) as {
    ZooKeeperServer: { start(o: Record<string, unknown>): Promise<EmbeddedServer> };
  };
  // Diagnostics go to stderr, which the harness appends to server.log.
  const srv = await mod.ZooKeeperServer.start({ logger: (msg: string) => console.error(msg), ...launch.options });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    srv.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`close after ${signal} failed:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return;
    gc();
    const out = path.join(path.dirname(process.argv[2]), 'heap.json');
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(process.memoryUsage()));
    fs.renameSync(`${out}.tmp`, out);
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const tmp = `${launch.readyFile}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, connectString: srv.connectString }));
  fs.renameSync(tmp, launch.readyFile);
}

main().catch((err) => {
  console.error('our server failed to start:', err);
  process.exit(2);
});
