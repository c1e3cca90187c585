/**
 * Four-letter-word commands (ruok, srvr, mntr, ...) sent to a client port,
 * the way zkServer.sh status and monitoring tools ask a server how it is.
 */
import * as net from 'net';
import * as tls from 'tls';

/**
 * Sends `cmd` and resolves with everything the server wrote before closing.
 * Rejects on connection errors or when nothing completes within `timeoutMs`.
 * Example: `await fourLetterWord('127.0.0.1', 2181, 'ruok') === 'imok'`
 */
export function fourLetterWord(
  host: string,
  port: number,
  cmd: string,
  timeoutMs = 2000,
  tlsOptions?: tls.ConnectionOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock: net.Socket = tlsOptions
      ? tls.connect({ host, port, ...tlsOptions }, () => sock.write(cmd))
      : net.connect({ host, port }, () => sock.write(cmd));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${cmd} to ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The `Mode:` line of srvr (standalone, leader, follower, observer, read-only), or undefined when not serving. */
export async function serverMode(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  const out = await fourLetterWord(host, port, 'srvr', timeoutMs);
  const m = /^Mode: (\S+)/m.exec(out);
  return m ? m[1] : undefined;
}

/** Polls `probe` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? `: last error ${lastErr.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
