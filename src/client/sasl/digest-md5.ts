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
import { randomBytes } from 'crypto';
import { digestMd5Response, parseDirectives, SaslError } from '../../sasl/digest-md5';

export { digestMd5Response, parseDirectives, SaslError };
export type { DigestInputs } from '../../sasl/digest-md5';

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

