/**
 * TLS for the secure client port, in the vocabulary of Apache's ssl.* keys:
 * keystores and truststores as PEM or PKCS12, ssl.clientAuth need/want/none,
 * ssl.protocol / ssl.enabledProtocols / ssl.ciphersuites, and the client
 * certificate checks Apache's ZKTrustManager and X509AuthenticationProvider
 * make (hostname verification of the client, the x509 id).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as tls from 'node:tls';

/** TLS settings, in the vocabulary of Apache's ssl.* keys. */
export interface SslOptions {
  /** ssl.keyStore.location: the server's private key and certificate chain (a PEM file holding both, or PKCS12). */
  keyStoreLocation?: string;
  /** ssl.keyStore.password: the PKCS12 password, or the PEM key's passphrase. */
  keyStorePassword?: string;
  /** 'PEM' | 'PKCS12' (guessed from the extension when unset; JKS is not supported). */
  keyStoreType?: string;
  /** ssl.trustStore.location: the CA certificates client certificates are verified against (PEM or PKCS12). */
  trustStoreLocation?: string;
  /** ssl.trustStore.password: the PKCS12 truststore's password. */
  trustStorePassword?: string;
  /** 'PEM' | 'PKCS12' (guessed from the extension when unset). */
  trustStoreType?: string;
  /** 'need' (default, as Apache), 'want' or 'none'. */
  clientAuth?: 'need' | 'want' | 'none';
  /** ssl.protocol: the newest protocol to speak when enabledProtocols is unset (Apache's default TLSv1.3 also allows TLSv1.2). */
  protocol?: string;
  /** ssl.enabledProtocols: the protocols allowed ('TLSv1.2', 'TLSv1.3'); the oldest and newest given bound the range. */
  enabledProtocols?: string[];
  /** ssl.ciphersuites: OpenSSL cipher names (joined with ':'); default node's. */
  ciphersuites?: string[];
  /**
   * ssl.hostnameVerification (default true): a client certificate must name
   * the client's address (IP SAN, or DNS "localhost" for a loopback peer), as
   * Apache's ZKTrustManager checks.
   */
  hostnameVerification?: boolean;
}

/** A TLS configuration problem, naming the ssl.* key to fix. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(`${key}: ${message}`);
  }
}

function storeType(location: string, type: string | undefined): string {
  if (type) return type.toUpperCase();
  return /\.(p12|pfx|pkcs12)$/i.test(location) ? 'PKCS12' : /\.jks$/i.test(location) ? 'JKS' : 'PEM';
}

function readStore(location: string, key: string): Buffer {
  try {
    return fs.readFileSync(location);
  } catch (e) {
    throw new TlsConfigError(`cannot read ${location}: ${(e as Error).message}`, key);
  }
}

const PROTOCOL_ORDER: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function secureVersion(name: string, key: string): tls.SecureVersion {
  const v = PROTOCOL_ORDER.find((p) => p === name);
  if (!v) throw new TlsConfigError(`unsupported protocol ${name} (use ${PROTOCOL_ORDER.join(', ')})`, key);
  return v;
}

/** Node tls.createServer options for Apache-style ssl settings. */
export function serverTlsOptions(ssl: SslOptions): tls.TlsOptions {
  const out: tls.TlsOptions = {};
  if (ssl.keyStoreLocation) {
    const t = storeType(ssl.keyStoreLocation, ssl.keyStoreType);
    const data = readStore(ssl.keyStoreLocation, 'ssl.keyStore.location');
    if (t === 'PKCS12') {
      out.pfx = data;
      out.passphrase = ssl.keyStorePassword ?? '';
    } else if (t === 'PEM') {
      // Apache's PEM keystore: the private key and its certificate chain in one file (OpenSSL picks each block by type).
      out.key = data;
      out.cert = data;
      if (ssl.keyStorePassword) out.passphrase = ssl.keyStorePassword;
    } else {
      throw new TlsConfigError(`type ${t} is not supported (use PEM or PKCS12)`, 'ssl.keyStore.type');
    }
  }
  if (ssl.trustStoreLocation) {
    const t = storeType(ssl.trustStoreLocation, ssl.trustStoreType);
    if (t === 'PEM') out.ca = readStore(ssl.trustStoreLocation, 'ssl.trustStore.location');
    else if (t === 'PKCS12') out.ca = pkcs12Certificates(ssl.trustStoreLocation, ssl.trustStorePassword ?? '');
    else throw new TlsConfigError(`type ${t} is not supported (use PEM or PKCS12)`, 'ssl.trustStore.type');
  }
  const clientAuth = ssl.clientAuth ?? 'need';
  out.requestCert = clientAuth !== 'none';
  // 'want': Node would accept an untrusted certificate; acceptTlsClient() refuses one that was presented but not verified.
  out.rejectUnauthorized = clientAuth === 'need';
  if (ssl.enabledProtocols?.length) {
    const versions = ssl.enabledProtocols.map((p) => secureVersion(p, 'ssl.enabledProtocols'));
    versions.sort((a, b) => PROTOCOL_ORDER.indexOf(a) - PROTOCOL_ORDER.indexOf(b));
    out.minVersion = versions[0];
    out.maxVersion = versions[versions.length - 1];
  } else if (ssl.protocol && ssl.protocol !== 'TLS') {
    // X509Util's default enabled protocols: TLSv1.3 also enables TLSv1.2; any other protocol only itself.
    const v = secureVersion(ssl.protocol, 'ssl.protocol');
    out.maxVersion = v;
    out.minVersion = v === 'TLSv1.3' ? 'TLSv1.2' : v;
  }
  if (ssl.ciphersuites?.length) out.ciphers = ssl.ciphersuites.join(':');
  return out;
}

/**
 * The certificates of a PKCS12 truststore as PEM. Node reads a PKCS12 only
 * as a keystore (key + certificate), so a key-less truststore is converted
 * with the openssl command.
 */
export function pkcs12Certificates(file: string, password: string, openssl = 'openssl'): Buffer {
  readStore(file, 'ssl.trustStore.location');
  try {
    return execFileSync(openssl, ['pkcs12', '-in', file, '-nokeys', '-passin', `pass:${password}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') {
      throw new TlsConfigError(`${file} is PKCS12, which needs the openssl command to read (not found on PATH); install openssl or use a PEM truststore`, 'ssl.trustStore.location');
    }
    throw new TlsConfigError(`cannot read PKCS12 truststore ${file}: ${err.stderr?.toString().trim() || err.message}`, 'ssl.trustStore.location');
  }
}

/**
 * Decides what to do with a TLS client after the handshake: null to accept
 * it, or the reason to refuse it. With clientAuth=want a certificate that was
 * presented must still verify (Java's SSLEngine refuses it too).
 */
export function tlsClientProblem(socket: tls.TLSSocket, ssl: SslOptions): string | null {
  const clientAuth = ssl.clientAuth ?? 'need';
  if (clientAuth === 'none') return null;
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (!presented) return clientAuth === 'need' ? 'no client certificate' : null;
  if (!socket.authorized) return `client certificate not trusted: ${String(socket.authorizationError)}`;
  if (ssl.hostnameVerification ?? true) {
    const addr = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const names = [addr];
    // ZKTrustManager falls back to the peer's host name; a loopback peer is "localhost".
    if (addr === '127.0.0.1' || addr === '::1') names.push('localhost');
    const ok = names.some((n) => tls.checkServerIdentity(n, cert) === undefined);
    if (!ok) return `client certificate does not match the client address ${addr} (ssl.hostnameVerification)`;
  }
  return null;
}

// ---- the x509 id: the subject DN as Java's X500Principal.getName() prints it (RFC 2253) ----

/** Attribute types RFC 2253 (and Java) print by keyword; others print as a dotted OID with the value's DER in hex. */
const RFC2253_KEYWORDS = new Map<string, string>([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

interface Der {
  tag: number;
  /** Offset of the contents. */
  start: number;
  /** Offset after the contents. */
  end: number;
  /** Offset of the tag byte. */
  head: number;
}

function readDer(buf: Buffer, pos: number): Der {
  const head = pos;
  const tag = buf[pos++];
  let len = buf[pos++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++];
  }
  if (pos + len > buf.length) throw new Error('truncated DER');
  return { tag, start: pos, end: pos + len, head };
}

function children(buf: Buffer, parent: Der): Der[] {
  const out: Der[] = [];
  for (let p = parent.start; p < parent.end; ) {
    const d = readDer(buf, p);
    out.push(d);
    p = d.end;
  }
  return out;
}

function decodeOid(b: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else {
        parts.push(v);
      }
      v = 0;
    }
  }
  return parts.join('.');
}

function decodeString(tag: number, b: Buffer): string | null {
  switch (tag) {
    case 0x0c: // UTF8String
      return b.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x1a: // VisibleString
      return b.toString('latin1');
    case 0x14: // TeletexString (Java reads it as ISO-8859-1)
      return b.toString('latin1');
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      const le = Buffer.from(b);
      le.swap16();
      return le.toString('utf16le');
    }
    default:
      return null;
  }
}

/** AVA.toRFC2253String's escaping: these anywhere (Java escapes '#' and '=' too), and spaces at either end. */
function escapeRfc2253(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (',=+<>#;"\\'.includes(c)) out += '\\' + c;
    else if (c === ' ' && (i === 0 || i === value.length - 1)) out += '\\ ';
    else if (c === '\u0000') out += '\\00';
    else out += c;
  }
  return out;
}

/**
 * The subject of a DER certificate as Java's X500Principal.getName() (RFC
 * 2253) gives it, which is the id Apache's X509AuthenticationProvider uses:
 * most specific RDN first, "CN=client,OU=dev,O=Acme,C=US".
 */
export function x509SubjectName(certDer: Buffer): string {
  const cert = readDer(certDer, 0);
  const tbs = children(certDer, cert)[0];
  const fields = children(certDer, tbs);
  // [0] version is optional; then serial, signature alg, issuer, validity, subject.
  const i = fields[0].tag === 0xa0 ? 1 : 0;
  const subject = fields[i + 4];
  const rdns = children(certDer, subject).map((set) =>
    children(certDer, set)
      .map((ava) => {
        const [oidDer, valueDer] = children(certDer, ava);
        const oid = decodeOid(certDer.subarray(oidDer.start, oidDer.end));
        const keyword = RFC2253_KEYWORDS.get(oid);
        const str = keyword ? decodeString(valueDer.tag, certDer.subarray(valueDer.start, valueDer.end)) : null;
        if (keyword && str !== null) return `${keyword}=${escapeRfc2253(str)}`;
        return `${keyword ?? oid}=#${certDer.subarray(valueDer.head, valueDer.end).toString('hex')}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}
