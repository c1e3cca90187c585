/**
 * A four-letter word asked on its own short-lived socket, the way the Java
 * client's pingRwServer asks `isro` of another server while it sits on a
 * read-only one: connect, write the word, half-close, read until the
 * server closes. The server answers in plain text and hangs up.
 *
 * Never rejects and never throws: a refused connection, a reset, a timeout
 * or a cancel all resolve with null, since for a probe "no answer" is just
 * one more outcome.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { HostAddress } from './connect-string';

/** Answers longer than this are not a four-letter word's; stop reading. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface FourLetterWordProbe {
  /** The server's whole answer, or null when there was none (refused, reset, timed out, cancelled). */
  readonly answer: Promise<string | null>;
  /** Ends the probe now (its answer becomes null unless it already settled). */
  cancel(): void;
}

/**
 * Asks `word` of one server.
 * @example const { answer } = askFourLetterWord({ host: '127.0.0.1', port: 2181 }, 'isro', 1000); // 'rw' | 'ro' | null
 */
export function askFourLetterWord(
  host: HostAddress,
  word: string,
  timeoutMs: number,
  tlsOptions: tls.ConnectionOptions | null = null,
): FourLetterWordProbe {
  let finish!: (v: string | null) => void;
  const answer = new Promise<string | null>((resolve) => (finish = resolve));
  let done = false;
  let sock: net.Socket | null = null;
  const chunks: Buffer[] = [];
  let size = 0;

  const end = (value: string | null) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (sock !== null) {
      sock.removeAllListeners('data');
      sock.removeAllListeners('close');
      sock.removeAllListeners('end');
      sock.on('error', () => {}); // late errors of a socket we left
      sock.destroy();
    }
    finish(value);
  };
  const timer = setTimeout(() => end(null), timeoutMs);

  try {
    if (tlsOptions) {
      const servername = tlsOptions.servername ?? (net.isIP(host.host) ? undefined : host.host);
      sock = tls.connect({ ...tlsOptions, host: host.host, port: host.port, servername });
    } else {
      sock = net.connect({ host: host.host, port: host.port });
    }
  } catch {
    end(null);
    return { answer, cancel: () => end(null) };
  }
  const s = sock;
  s.setNoDelay(true);
  s.once(tlsOptions ? 'secureConnect' : 'connect', () => {
    if (done) return;
    // Half-close after the word: Apache answers, then closes its side.
    s.end(word);
  });
  s.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) end(Buffer.concat(chunks).toString('utf8'));
  });
  // 'end' is the server's FIN: the whole answer is in.
  s.on('end', () => end(Buffer.concat(chunks).toString('utf8')));
  s.on('error', () => end(null));
  s.on('close', () => end(size > 0 ? Buffer.concat(chunks).toString('utf8') : null));
  return { answer, cancel: () => end(null) };
}
