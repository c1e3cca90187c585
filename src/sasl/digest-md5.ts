/**
 * The parts of SASL DIGEST-MD5 (RFC 2831) that both sides compute: the
 * directive syntax and the response/rspauth digests. The client mechanism
 * (src/client/sasl) and the server mechanism (src/server/session) build
 * their exchanges on these, so the two can never disagree on the math.
 */
import { createHash } from 'crypto';

/** A DIGEST-MD5 exchange that cannot go on (malformed token, bad password, ...). */
export class SaslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslError';
  }
}

/** Parses `k=v,k="quoted, \"value\"",...` (digest-challenge and digest-response syntax). */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new SaslError(`malformed digest directive at offset ${i}`);
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i];
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new SaslError(`unterminated quoted value for ${key}`);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      value = text.slice(i, end).trim();
      i = end;
    }
    // RFC 2831 lets realm repeat (the first is taken); other repeats are tolerated the same way.
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

export function md5(...parts: (string | Buffer)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 2831 2.1.2.1: with charset=utf-8, text representable in ISO 8859-1 is hashed as 8859-1. */
function encodeText(s: string, utf8: boolean): Buffer {
  if (utf8) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  }
  return Buffer.from(s, 'latin1');
}

export interface DigestInputs {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  digestUri: string;
  authzid?: string;
  utf8: boolean;
}

/** The client's `response` and the server's `rspauth` values of RFC 2831 2.1.2.1. */
export function digestMd5Response(i: DigestInputs): { response: string; rspauth: string } {
  const hex = (b: Buffer) => b.toString('hex');
  const userHash = md5(encodeText(i.username, i.utf8), ':', encodeText(i.realm, i.utf8), ':', encodeText(i.password, i.utf8));
  const a1Parts: (string | Buffer)[] = [userHash, ':', i.nonce, ':', i.cnonce];
  if (i.authzid) a1Parts.push(':', encodeText(i.authzid, i.utf8));
  const ha1 = hex(md5(...a1Parts));
  // auth-int and auth-conf hash A2 with a zero body digest; ZooKeeper negotiates auth only.
  const a2Tail = i.qop === 'auth-int' || i.qop === 'auth-conf' ? ':00000000000000000000000000000000' : '';
  const kd = (a2: string) => hex(md5(ha1, ':', i.nonce, ':', i.nc, ':', i.cnonce, ':', i.qop, ':', hex(md5(a2 + a2Tail))));
  return { response: kd(`AUTHENTICATE:${i.digestUri}`), rspauth: kd(`:${i.digestUri}`) };
}
