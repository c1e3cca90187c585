/**
 * The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper runs it
 * (protocol "zookeeper", server name and realm "zk-sasl-md5", qop auth):
 *
 *   client: empty token
 *   server: challenge  realm="zk-sasl-md5",nonce="..",charset=utf-8,algorithm=md5-sess
 *   client: response   username=..,nonce=..,cnonce=..,nc=..,qop=auth,digest-uri=..,response=<hex>
 *   server: rspauth=<hex>             (authentication complete)
 *
 * The authenticated id is the user name, as Apache's SaslServerCallbackHandler
 * reports it (so ACLs name `sasl:<user>`).
 */
import { randomBytes } from 'node:crypto';
import { DigestInputs, digestMd5Response, parseDirectives, SaslError } from '../../sasl/digest-md5';

export { parseDirectives, SaslError };

export type SaslUsers = ReadonlyMap<string, string>;

export const SASL_REALM = 'zk-sasl-md5';

/** Computes the client's `response` or, with `forServer`, the server's rspauth (RFC 2831 2.1.2.1). */
export function digestResponse(opts: DigestInputs & { forServer: boolean }): string {
  const { response, rspauth } = digestMd5Response(opts);
  return opts.forServer ? rspauth : response;
}

export class DigestMd5Server {
  private step = 0;
  private nonce = '';
  private complete = false;
  private authz: string | null = null;

  constructor(
    private readonly users: SaslUsers,
    private readonly realm = SASL_REALM,
    private readonly protocol = 'zookeeper',
  ) {}

  get isComplete(): boolean {
    return this.complete;
  }

  get authorizationId(): string | null {
    return this.authz;
  }

  /** Takes the client's token, returns the server's next token; throws SaslError on a failed exchange. */
  evaluateResponse(token: Buffer): Buffer {
    if (this.complete) throw new SaslError('authentication already complete');
    if (this.step === 0) {
      this.step = 1;
      this.nonce = randomBytes(24).toString('base64').replace(/[+/=]/g, (c) => (c === '+' ? 'A' : c === '/' ? 'B' : ''));
      return Buffer.from(`realm="${this.realm}",nonce="${this.nonce}",charset=utf-8,algorithm=md5-sess`, 'utf8');
    }
    if (this.step !== 1) throw new SaslError('unexpected SASL step');
    this.step = 2;
    const d = parseDirectives(token.toString('utf8'));
    const username = d.get('username');
    const nonce = d.get('nonce');
    const cnonce = d.get('cnonce');
    const nc = d.get('nc') ?? '00000001';
    const qop = d.get('qop') ?? 'auth';
    const digestUri = d.get('digest-uri');
    const response = d.get('response');
    const realm = d.get('realm') ?? '';
    const authzid = d.get('authzid');
    if (!username || !nonce || !cnonce || !digestUri || !response) throw new SaslError('incomplete DIGEST-MD5 response');
    if (nonce !== this.nonce) throw new SaslError('nonce mismatch');
    if (qop !== 'auth') throw new SaslError(`unsupported qop ${qop}`);
    if (!digestUri.startsWith(`${this.protocol}/`)) throw new SaslError(`digest-uri ${digestUri} is not for ${this.protocol}`);
    const password = this.users.get(username);
    if (password === undefined) throw new SaslError(`unknown user ${username}`);
    const utf8 = d.get('charset')?.toLowerCase() === 'utf-8';
    const common = { username, realm, password, nonce, cnonce, nc, qop, digestUri, authzid, utf8 };
    if (digestResponse({ ...common, forServer: false }) !== response.toLowerCase()) throw new SaslError(`bad password for ${username}`);
    this.complete = true;
    this.authz = username;
    return Buffer.from(`rspauth=${digestResponse({ ...common, forServer: true })}`, 'utf8');
  }
}
