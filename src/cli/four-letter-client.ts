/**
 * Sends one four-letter word to a server's client port and collects the
 * reply (the server closes the connection when done), like Apache's
 * FourLetterWordMain that zkServer.sh status uses.
 */
import * as net from 'net';
import * as tls from 'tls';

export interface FourLetterRequestOptions {
  /** Give up after this long (connect + reply). Default 5000 ms. */
  timeoutMs?: number;
  /** Speak TLS (secure client port). The server certificate is not verified: this is a local liveness probe. */
  tls?: boolean | tls.ConnectionOptions;
}

/**
 * @example await sendFourLetterWord('127.0.0.1', 2181, 'srvr') // "Zookeeper version: ...\nMode: standalone\n..."
 */
export function sendFourLetterWord(host: string, port: number, word: string, options: FourLetterRequestOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const socket: net.Socket = options.tls
      ? tls.connect({ host, port, rejectUnauthorized: false, ...(typeof options.tls === 'object' ? options.tls : {}) }, () =>
          socket.write(word),
        )
      : net.connect({ host, port }, () => socket.write(word));
    const timer = setTimeout(() => finish(new Error(`no reply to ${word} from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (e) => finish(e));
  });
}
