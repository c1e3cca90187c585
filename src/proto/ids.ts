import { ACL, Id } from './generated';
import { Perms } from './constants';

/** Well-known ids and ACL lists (ZooDefs.Ids). */
export const Ids = {
  ANYONE_ID_UNSAFE: new Id({ scheme: 'world', id: 'anyone' }),
  AUTH_IDS: new Id({ scheme: 'auth', id: '' }),
  get OPEN_ACL_UNSAFE(): ACL[] {
    return [new ACL({ perms: Perms.ALL, id: Ids.ANYONE_ID_UNSAFE })];
  },
  get CREATOR_ALL_ACL(): ACL[] {
    return [new ACL({ perms: Perms.ALL, id: Ids.AUTH_IDS })];
  },
  get READ_ACL_UNSAFE(): ACL[] {
    return [new ACL({ perms: Perms.READ, id: Ids.ANYONE_ID_UNSAFE })];
  },
};
