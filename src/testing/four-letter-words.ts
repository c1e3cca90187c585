/**
 * Four-letter-word commands (ruok, srvr, mntr, cons, ...) sent to a client
 * port, the way zkServer.sh status and monitoring tools ask a server how it
 * is. The testing kit reads roles (`srvr`'s Mode) and connections (`cons`)
 * this way, so it works on a server in another process without any hook.
 * The socket work is src/cli's sendFourLetterWord; this adds the test-side
 * shape (TLS verified unless told otherwise) and the Mode parser.
 */
import type * as tls from 'tls';
import { sendFourLetterWord } from '../cli/four-letter-client';

/**
 * Sends `cmd` and resolves with everything the server wrote before closing.
 * Rejects on connection errors or when nothing completes within `timeoutMs`.
 * With `tlsOptions` it speaks TLS and verifies the server (as node's tls does
 * by default).
 * Example: `await fourLetterWord('127.0.0.1', 2181, 'ruok') === 'imok'`
 */
export function fourLetterWord(
  host: string,
  port: number,
  cmd: string,
  timeoutMs = 2000,
  tlsOptions?: tls.ConnectionOptions,
): Promise<string> {
  return sendFourLetterWord(host, port, cmd, { timeoutMs, tls: tlsOptions ? { rejectUnauthorized: true, ...tlsOptions } : undefined });
}

/**
 * The `Mode:` line of srvr (standalone, leader, follower, observer,
 * read-only), or undefined when the server answers but is not serving.
 * Example: `await serverMode('127.0.0.1', 2181) === 'leader'`
 */
export async function serverMode(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  const out = await fourLetterWord(host, port, 'srvr', timeoutMs);
  const m = /^Mode: (\S+)/m.exec(out);
  return m ? m[1] : undefined;
}

/** The modes in which a server answers clients. */
export const SERVING_MODES: readonly string[] = ['standalone', 'leader', 'follower', 'observer', 'read-only'];

/**
 * `cons`: the client connections a server holds, as (remote port, session id)
 * pairs; connections still in their handshake have no session (0n).
 * Example: `(await connections('127.0.0.1', 2181)).find((c) => c.sessionId === zk.sessionId)?.remotePort`
 */
export async function connections(
  host: string,
  port: number,
  timeoutMs = 2000,
): Promise<
  Array<{
    /** The client's port on its side of the connection. */
    remotePort: number;
    /** The connection's session id; 0n during the handshake. */
    sessionId: bigint;
  }>
> {
  const out = await fourLetterWord(host, port, 'cons', timeoutMs);
  const found: Array<{ remotePort: number; sessionId: bigint }> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\/[^\s[]*:(\d+)\[/.exec(line);
    if (!m) continue;
    const sid = /[(,]sid=0x([0-9a-f]+)/.exec(line);
    found.push({ remotePort: Number(m[1]), sessionId: sid ? BigInt(`0x${sid[1]}`) : 0n });
  }
  return found;
}
