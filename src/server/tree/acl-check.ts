/**
 * ACL evaluation and the server-side auth schemes, following Apache's
 * ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL and the
 * Digest/IP/SASL authentication providers, so that the same ACL gives the
 * same NoAuth/InvalidACL answer on our server as on Apache's.
 */
import { createHash } from 'node:crypto';
import { ACL, Id } from '../../proto/generated/data';
import { ErrorCode } from '../../proto/constants';
import { KeeperCodeError } from './keeper-error';

/** Apache's DigestAuthenticationProvider.generateDigest: `user:base64(sha1("user:password"))`. */
export function generateDigest(idPassword: string): string {
  const user = idPassword.split(':', 1)[0];
  const sha = createHash('sha1').update(Buffer.from(idPassword, 'utf8')).digest('base64');
  return `${user}:${sha}`;
}

/** Java's String.split(regex) drops trailing empty strings; the digest validity check depends on that. */
function javaSplitCount(s: string, sep: string): number {
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length;
}

function v4Bytes(addr: string): number[] | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return null;
    const n = Number(p);
    if (n < 0 || n > 255) return null;
    out.push(n);
  }
  return out;
}

/** The ip id a connection gets from its peer address (IPv4-mapped IPv6 is unwrapped, as Java reports it). */
export function ipIdFor(remoteAddress: string | undefined): string {
  if (!remoteAddress) return '';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

export interface AuthScheme {
  /** May the id be used in an ACL? */
  isValid(id: string): boolean;
  /** Does an authenticated id satisfy an ACL expression? */
  matches(authId: string, aclExpr: string): boolean;
  /** Does holding an id of this scheme count for the `auth` pseudo-scheme? */
  isAuthenticated: boolean;
  /** The user name whoAmI reports for an id. */
  userName(id: string): string;
}

export const digestScheme: AuthScheme = {
  isValid: (id) => javaSplitCount(id, ':') === 2,
  matches: (authId, aclExpr) => authId === aclExpr,
  isAuthenticated: true,
  userName: (id) => id.split(':')[0],
};

export const ipScheme: AuthScheme = {
  isValid(id) {
    const slash = id.indexOf('/');
    const addr = v4Bytes(slash < 0 ? id : id.slice(0, slash));
    if (addr === null) return false;
    if (slash >= 0) {
      const bitsText = id.slice(slash + 1);
      if (!/^-?\d+$/.test(bitsText)) return false;
      const bits = Number(bitsText);
      if (bits < 0 || bits > 32) return false;
    }
    return true;
  },
  matches(authId, aclExpr) {
    const slash = aclExpr.indexOf('/');
    const aclAddr = v4Bytes(slash < 0 ? aclExpr : aclExpr.slice(0, slash));
    if (aclAddr === null) return false;
    let bits = 32;
    if (slash >= 0) {
      bits = Number(aclExpr.slice(slash + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
    }
    const remote = v4Bytes(authId);
    if (remote === null) return false;
    for (let i = 0; i < 4; i++) {
      const take = Math.max(0, Math.min(8, bits - i * 8));
      const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
      if ((remote[i] & mask) !== (aclAddr[i] & mask)) return false;
    }
    return true;
  },
  isAuthenticated: false,
  userName: (id) => id,
};

export const saslScheme: AuthScheme = {
  isValid: () => true,
  matches: (authId, aclExpr) => authId === aclExpr,
  isAuthenticated: true,
  userName: (id) => id,
};

/**
 * Apache's X509AuthenticationProvider: a TLS client's id is its certificate's
 * subject DN as Java prints it (RFC 2253, e.g. "CN=client,OU=dev,O=Acme"),
 * matched exactly.
 */
export const x509Scheme: AuthScheme = {
  isValid: () => true,
  matches: (authId, aclExpr) => authId === aclExpr,
  isAuthenticated: true,
  userName: (id) => id,
};

/** The schemes our server accepts: Apache's defaults, sasl (when SASL is configured) and x509 (TLS client certificates). */
export const AUTH_SCHEMES: ReadonlyMap<string, AuthScheme> = new Map([
  ['digest', digestScheme],
  ['ip', ipScheme],
  ['sasl', saslScheme],
  ['x509', x509Scheme],
]);

/** Whether some ACL entry with `perm` matches one of `ids` (an empty or absent ACL, and a super id, allow everything). */
export function hasPermission(acl: readonly ACL[] | null, perm: number, ids: readonly Id[]): boolean {
  if (acl == null || acl.length === 0) return true;
  for (const authId of ids) if (authId.scheme === 'super') return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return true;
    const scheme = AUTH_SCHEMES.get(a.id.scheme);
    if (scheme === undefined) continue;
    for (const authId of ids) {
      if (authId.scheme === a.id.scheme && scheme.matches(authId.id, a.id.id)) return true;
    }
  }
  return false;
}

/** ZooKeeperServer.checkACL: throws NoAuth unless some ACL entry with `perm` matches one of `ids`. */
export function checkAcl(acl: readonly ACL[] | null, perm: number, ids: readonly Id[]): void {
  if (!hasPermission(acl, perm, ids)) throw new KeeperCodeError(ErrorCode.NOAUTH);
}

/** PrepRequestProcessor.fixupACL: dedupe, validate, and expand `auth` to the caller's authenticated ids. */
export function fixupAcl(path: string, ids: readonly Id[], acls: readonly ACL[] | null): ACL[] {
  const uniq: ACL[] = [];
  for (const a of acls ?? []) {
    if (!uniq.some((u) => u.perms === a.perms && u.id.scheme === a.id.scheme && u.id.id === a.id.id)) uniq.push(a);
  }
  if (uniq.length === 0) throw new KeeperCodeError(ErrorCode.INVALIDACL, path);
  const out: ACL[] = [];
  for (const a of uniq) {
    if (a.id.scheme === 'world' && a.id.id === 'anyone') {
      out.push(a);
    } else if (a.id.scheme === 'auth') {
      let any = false;
      for (const cid of ids) {
        const scheme = AUTH_SCHEMES.get(cid.scheme);
        if (scheme?.isAuthenticated) {
          any = true;
          out.push(new ACL({ perms: a.perms, id: new Id({ scheme: cid.scheme, id: cid.id }) }));
        }
      }
      if (!any) throw new KeeperCodeError(ErrorCode.INVALIDACL, path);
    } else {
      const scheme = AUTH_SCHEMES.get(a.id.scheme);
      if (scheme === undefined || !scheme.isValid(a.id.id)) throw new KeeperCodeError(ErrorCode.INVALIDACL, path);
      out.push(a);
    }
  }
  return out;
}

/** The name whoAmI reports for an id (digest ids show only the user). */
export function whoAmIUser(id: Id): string {
  return AUTH_SCHEMES.get(id.scheme)?.userName(id.id) ?? id.id;
}
