/**
 * One pass over a connect string's hosts with plain TCP connects, so the
 * shell can say "every server refused" as soon as that is known, instead of
 * waiting out the client's connect timeout (which stays as documented for
 * programs: the client keeps trying every host until then).
 */
import * as net from 'net';
import { parseConnectString } from '../../client/connect-string';

export interface ProbeResult {
  /** True when every host failed at once (refused, unresolvable, unreachable). */
  allRefused: boolean;
  /** host:port -> the error code, for each host that failed. */
  failures: Array<{ host: string; port: number; code: string }>;
}

/** Tries one TCP connect; resolves with null when it connects (or is still pending after timeoutMs), else the error code. */
function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (r: string | null) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(r);
    };
    // A host that neither accepts nor refuses (filtered, slow) is not "refused": the client's timeout decides.
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.once('connect', () => done(null));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** One full pass over the hosts of connectString (chroot ignored). */
export async function probeHosts(connectString: string, timeoutMs = 3000): Promise<ProbeResult> {
  const { hosts } = parseConnectString(connectString);
  const failures: ProbeResult['failures'] = [];
  for (const h of hosts) {
    const code = await tryConnect(h.host, h.port, timeoutMs);
    if (code === null) return { allRefused: false, failures };
    failures.push({ host: h.host, port: h.port, code });
  }
  return { allRefused: true, failures };
}

/** The shell's message for a pass where every host failed. */
export function describeRefusal(connectString: string, r: ProbeResult): string {
  const each = r.failures.map((f) => `${f.host}:${f.port} ${f.code === 'ECONNREFUSED' ? 'Connection refused' : f.code}`).join(', ');
  return `Unable to connect to ${connectString}: every server failed (${each})`;
}
