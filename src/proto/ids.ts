import { ACL, Id } from './generated';
import { Perms } from './constants';

/** Well-known ids and ACL lists (ZooDefs.Ids). */
export const Ids = {
  /** `world:anyone`: every client. */
  ANYONE_ID_UNSAFE: new Id({ scheme: 'world', id: 'anyone' }),
  /** `auth:`: in an ACL given to create/setACL, the identities the calling session authenticated as. */
  AUTH_IDS: new Id({ scheme: 'auth', id: '' }),
  /** Everyone may do everything (a new list on every read, so callers may change it). */
  get OPEN_ACL_UNSAFE(): ACL[] {
    return [new ACL({ perms: Perms.ALL, id: Ids.ANYONE_ID_UNSAFE })];
  },
  /** All permissions for the creating session's identities (a new list on every read). */
  get CREATOR_ALL_ACL(): ACL[] {
    return [new ACL({ perms: Perms.ALL, id: Ids.AUTH_IDS })];
  },
  /** Everyone may read (a new list on every read). */
  get READ_ACL_UNSAFE(): ACL[] {
    return [new ACL({ perms: Perms.READ, id: Ids.ANYONE_ID_UNSAFE })];
  },
};
