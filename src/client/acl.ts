/**
 * ACL helpers: the standard lists, digest ACLs from a user and password, and
 * permission bits to and from zkCli's `cdrwa` letters.
 *
 * Every function here returns plain data (`{ perms, id: { scheme, id } }`),
 * which every call that takes an ACL accepts as it is.
 *
 * @example
 *   await zk.addAuthInfo('digest', 'alice:secret');
 *   await zk.create('/private', 'x', { acl: [makeDigestAcl('alice', 'secret', Perms.ALL), ...READ_ACL_UNSAFE] });
 */
import { createHash } from 'crypto';
import { Perms } from '../proto/constants';
import type { ACLFields, IdFields } from '../proto/generated/data';

/** An ACL entry as plain data: the permission bits and who they are granted to. */
export type AclEntry = ACLFields;
/** An ACL id as plain data: `{ scheme: 'digest', id: 'user:hash' }`. */
export type AclId = IdFields;

function frozenAcl(perms: number, scheme: string, id: string): Readonly<AclEntry> {
  return Object.freeze({ perms, id: Object.freeze({ scheme, id }) });
}

/** Everyone may do everything (ZooDefs.Ids.OPEN_ACL_UNSAFE). */
export const OPEN_ACL_UNSAFE: readonly AclEntry[] = Object.freeze([frozenAcl(Perms.ALL, 'world', 'anyone')]);
/** All permissions for the identities the creating session authenticated as (ZooDefs.Ids.CREATOR_ALL_ACL). */
export const CREATOR_ALL_ACL: readonly AclEntry[] = Object.freeze([frozenAcl(Perms.ALL, 'auth', '')]);
/** Everyone may read (ZooDefs.Ids.READ_ACL_UNSAFE). */
export const READ_ACL_UNSAFE: readonly AclEntry[] = Object.freeze([frozenAcl(Perms.READ, 'world', 'anyone')]);

/** Permission flags, as kazoo's make_acl takes them. */
export interface PermFlags {
  /** Perms.READ: read the data, list the children. */
  read?: boolean;
  /** Perms.WRITE: set the data. */
  write?: boolean;
  /** Perms.CREATE: create children. */
  create?: boolean;
  /** Perms.DELETE: delete children. */
  delete?: boolean;
  /** Perms.ADMIN: set the ACL. */
  admin?: boolean;
  /** Perms.ALL; the other flags are then ignored. */
  all?: boolean;
}

/** ORs permission bits together: `combinePerms(Perms.READ, Perms.WRITE) === 3`. */
export function combinePerms(...perms: number[]): number {
  let bits = 0;
  for (const p of perms) bits |= p;
  return bits & Perms.ALL;
}

const LETTERS: [string, number][] = [
  ['c', Perms.CREATE],
  ['d', Perms.DELETE],
  ['r', Perms.READ],
  ['w', Perms.WRITE],
  ['a', Perms.ADMIN],
];

/** Permission bits from zkCli letters (`'rw'` -> 3, `'cdrwa'` -> 31); throws on any other letter. */
export function permsFromString(letters: string): number {
  let bits = 0;
  for (const ch of letters) {
    const found = LETTERS.find(([l]) => l === ch);
    if (found === undefined) throw new TypeError(`unknown permission letter ${JSON.stringify(ch)} in ${JSON.stringify(letters)} (use c, d, r, w, a)`);
    bits |= found[1];
  }
  return bits;
}

/** zkCli's letters for permission bits, in its order (31 -> `'cdrwa'`). */
export function permsToString(perms: number): string {
  return LETTERS.filter(([, bit]) => (perms & bit) !== 0)
    .map(([l]) => l)
    .join('');
}

function toPerms(perms: number | PermFlags): number {
  if (typeof perms === 'number') return perms & Perms.ALL;
  if (perms.all) return Perms.ALL;
  let bits = 0;
  if (perms.read) bits |= Perms.READ;
  if (perms.write) bits |= Perms.WRITE;
  if (perms.create) bits |= Perms.CREATE;
  if (perms.delete) bits |= Perms.DELETE;
  if (perms.admin) bits |= Perms.ADMIN;
  return bits;
}

/** An ACL entry for any scheme: `makeAcl('ip', '127.0.0.1', Perms.READ)`. */
export function makeAcl(scheme: string, id: string, perms: number | PermFlags): AclEntry {
  return { perms: toPerms(perms), id: { scheme, id } };
}

/**
 * The digest scheme's id for a user and password, as the server computes it
 * from `addAuthInfo('digest', 'user:password')`: `user:base64(sha1('user:password'))`.
 */
export function digestId(username: string, password: string): string {
  return `${username}:${createHash('sha1').update(`${username}:${password}`, 'utf8').digest('base64')}`;
}

/**
 * A digest ACL entry for a user and password (kazoo's make_digest_acl).
 *
 * @example makeDigestAcl('alice', 'secret', { read: true, write: true })
 */
export function makeDigestAcl(username: string, password: string, perms: number | PermFlags): AclEntry {
  return makeAcl('digest', digestId(username, password), perms);
}
