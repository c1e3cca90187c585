/**
 * Apache's ReferenceCountedACLCache: every distinct ACL list gets a long id,
 * nodes store the id, and a reference count frees a list when its last node
 * goes. Snapshots store the id map and the per-node ids, so ids must be
 * assigned the same way (1, 2, 3, ...; -1 is the implicit OPEN_ACL_UNSAFE of
 * the built-in nodes and of a null list).
 */
import { ACL, Id } from '../../proto/generated/data';
import { Ids } from '../../proto/ids';

export const OPEN_UNSAFE_ACL_ID = -1n;

export function aclKey(acls: readonly ACL[]): string {
  // Perms plus scheme/id, with a separator that cannot appear in a number.
  return acls.map((a) => `${a.perms}|${a.id.scheme}|${a.id.id}`).join('\u0000');
}

export class AclCache {
  private byId = new Map<bigint, ACL[]>();
  private byKey = new Map<string, bigint>();
  private refs = new Map<bigint, number>();
  private index = 0n;

  /** Returns the id for a list, creating it if new, and counts one usage. */
  convertAcls(acls: readonly ACL[] | null): bigint {
    if (acls == null) return OPEN_UNSAFE_ACL_ID;
    const key = aclKey(acls);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = ++this.index;
      this.byId.set(id, acls.map(copyAcl));
      this.byKey.set(key, id);
    }
    this.addUsage(id);
    return id;
  }

  /** The list for an id; throws on an id nobody defined (a corrupt snapshot). */
  convertLong(id: bigint): ACL[] {
    if (id === OPEN_UNSAFE_ACL_ID) return Ids.OPEN_ACL_UNSAFE;
    const acls = this.byId.get(id);
    if (acls === undefined) throw new Error(`no ACL list for reference ${id}`);
    return acls;
  }

  addUsage(id: bigint, uses = 1): void {
    if (id === OPEN_UNSAFE_ACL_ID) return;
    if (!this.byId.has(id)) return;
    this.refs.set(id, (this.refs.get(id) ?? 0) + uses);
  }

  removeUsage(id: bigint): void {
    if (id === OPEN_UNSAFE_ACL_ID) return;
    const acls = this.byId.get(id);
    if (acls === undefined) return;
    const n = (this.refs.get(id) ?? 0) - 1;
    if (n <= 0) {
      this.refs.delete(id);
      this.byKey.delete(aclKey(acls));
      this.byId.delete(id);
    } else {
      this.refs.set(id, n);
    }
  }

  /** Loads a snapshot's map; usages are then counted as nodes load, and purgeUnused() drops the rest. */
  load(acls: Map<bigint, ACL[]>): void {
    this.byId.clear();
    this.byKey.clear();
    this.refs.clear();
    this.index = 0n;
    for (const [id, list] of acls) {
      if (id > this.index) this.index = id;
      this.byId.set(id, list.map(copyAcl));
      this.byKey.set(aclKey(list), id);
      this.refs.set(id, 0);
    }
  }

  purgeUnused(): void {
    for (const [id, n] of [...this.refs]) if (n <= 0) this.removeUsage(id);
  }

  /** A copy of the id map, for a snapshot. */
  snapshot(): Map<bigint, ACL[]> {
    return new Map([...this.byId].map(([id, list]) => [id, list.map(copyAcl)]));
  }

  get size(): number {
    return this.byId.size;
  }

  referenceCount(id: bigint): number {
    return this.refs.get(id) ?? 0;
  }
}

export function copyAcl(a: ACL): ACL {
  return new ACL({ perms: a.perms, id: new Id({ scheme: a.id.scheme, id: a.id.id }) });
}
