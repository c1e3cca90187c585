/**
 * The client side of SASL DIGEST-MD5 (RFC 2831), as Apache ZooKeeper uses it
 * without Kerberos: service "zookeeper", server name "zk-sasl-md5" (the
 * Java client's ZooKeeperSaslClient passes these to Sasl.createSaslClient, so
 * digest-uri is "zookeeper/zk-sasl-md5"), qop "auth" only (no integrity or
 * confidentiality layer: ZooKeeper never negotiates one).
 *
 * Exchange: the client opens with an empty token; the server answers with a
 * digest-challenge; the client sends a digest-response; the server answers
 * with `rspauth=...`, which the client verifies. Then the mechanism is done.
 */
import { createHash, randomBytes } from 'crypto';

export interface DigestMd5Options {
  username: string;
  password: string;
  /** SASL service name (default "zookeeper"). */
  service?: string;
  /** Server host name in digest-uri (default "zk-sasl-md5"). */
  host?: string;
  /** Authorization id; omitted when absent (the common case). */
  authzid?: string;
  /** Client nonce (tests pin it); random by default. */
  cnonce?: string;
}

export class SaslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslError';
  }
}

/** Parses a digest-challenge: comma-separated `key=value` or `key="quoted\"value"`. */
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
    // RFC 2831: realm may repeat (we take the first); other duplicates are an error we tolerate by keeping the first.
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

function md5(...parts: (string | Buffer)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

/** RFC 2831 2.1.2.1: with charset=utf-8, text representable in ISO 8859-1 is hashed as 8859-1. */
function encodeText(s: string, utf8: boolean): Buffer {
  if (utf8) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  }
  return Buffer.from(s, 'latin1');
}

function quote(s: string): string {
  return '"' + s.replace(/(["\\])/g, '\\$1') + '"';
}

export class DigestMd5Client {
  readonly mechanism = 'DIGEST-MD5';
  private step = 0;
  private expectedRspAuth = '';
  private done = false;
  private readonly service: string;
  private readonly host: string;

  constructor(private readonly opts: DigestMd5Options) {
    this.service = opts.service ?? 'zookeeper';
    this.host = opts.host ?? 'zk-sasl-md5';
  }

  /** DIGEST-MD5 has no initial response: the first token sent is empty. */
  initialResponse(): Buffer {
    return Buffer.alloc(0);
  }

  get isComplete(): boolean {
    return this.done;
  }

  /** Answers a server token; returns the next token to send, or null when nothing more is sent. */
  evaluateChallenge(token: Buffer): Buffer | null {
    if (this.step === 0) {
      this.step = 1;
      return Buffer.from(this.respond(token.toString('latin1')), 'latin1');
    }
    if (this.step === 1) {
      this.step = 2;
      const d = parseDirectives(token.toString('latin1'));
      const rspauth = d.get('rspauth');
      if (rspauth === undefined) throw new SaslError('server did not send rspauth');
      if (rspauth.toLowerCase() !== this.expectedRspAuth) throw new SaslError('server rspauth does not match: the server does not know the password');
      this.done = true;
      return null;
    }
    throw new SaslError('DIGEST-MD5 exchange is already complete');
  }

  /** Builds the digest-response for a digest-challenge (RFC 2831 2.1.2). */
  respond(challengeText: string): string {
    const c = parseDirectives(challengeText);
    const nonce = c.get('nonce');
    if (!nonce) throw new SaslError('digest-challenge has no nonce');
    const algorithm = c.get('algorithm');
    if (algorithm !== 'md5-sess') throw new SaslError(`digest-challenge algorithm must be md5-sess, got ${algorithm}`);
    const qops = (c.get('qop') ?? 'auth').split(',').map((q) => q.trim());
    if (!qops.includes('auth')) throw new SaslError(`server offers no qop=auth (offers ${qops.join(',')})`);
    const utf8 = (c.get('charset') ?? '').toLowerCase() === 'utf-8';
    const realm = c.get('realm') ?? this.host;
    const cnonce = this.opts.cnonce ?? randomBytes(24).toString('base64');
    const nc = '00000001';
    const digestUri = `${this.service}/${this.host}`;
    const { response, rspauth } = digestMd5Response({
      username: this.opts.username,
      realm,
      password: this.opts.password,
      nonce,
      cnonce,
      nc,
      qop: 'auth',
      digestUri,
      authzid: this.opts.authzid,
      utf8,
    });
    this.expectedRspAuth = rspauth;
    const parts = [
      `charset=utf-8`,
      `username=${quote(this.opts.username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
      `digest-uri=${quote(digestUri)}`,
      `maxbuf=65536`,
      `response=${response}`,
      `qop=auth`,
    ];
    if (!utf8) parts.shift();
    if (this.opts.authzid) parts.push(`authzid=${quote(this.opts.authzid)}`);
    return parts.join(',');
  }
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

/** The response and expected rspauth values of RFC 2831 2.1.2.1 (qop=auth). */
export function digestMd5Response(i: DigestInputs): { response: string; rspauth: string } {
  const userHash = md5(
    encodeText(i.username, i.utf8),
    ':',
    encodeText(i.realm, i.utf8),
    ':',
    encodeText(i.password, i.utf8),
  );
  const a1Parts: (string | Buffer)[] = [userHash, ':', i.nonce, ':', i.cnonce];
  if (i.authzid) a1Parts.push(':', encodeText(i.authzid, i.utf8));
  const ha1 = hex(md5(...a1Parts));
  const kd = (a2: string) => hex(md5(ha1, ':', i.nonce, ':', i.nc, ':', i.cnonce, ':', i.qop, ':', hex(md5(a2))));
  return { response: kd(`AUTHENTICATE:${i.digestUri}`), rspauth: kd(`:${i.digestUri}`) };
}
