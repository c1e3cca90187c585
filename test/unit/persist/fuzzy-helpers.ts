/**
 * Random but valid txns against a live DataTree (what a leader's prep would
 * produce), and a value comparison of two trees: for the fuzzy snapshot tests.
 */
import { encodeRecord } from '../../../src/jute';
import type { Record as JuteRecord } from '../../../src/jute';
import {
  ACL,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTxn,
  DeleteTxn,
  ErrorTxn,
  Id,
  Ids,
  MultiTxn,
  OpCode,
  SetACLTxn,
  SetDataTxn,
  Txn,
  TxnHeader,
} from '../../../src/proto';
import { treeDigest } from '../../../src/server/persist/digest';
import { decodeTxnBody } from '../../../src/server/persist/txn-codec';
import type { TxnEntry } from '../../../src/server/persist/types';
import { copyStatPersisted, type DataTree, isSpecialPath } from '../../../src/server/tree/data-tree';

import { seededRandom } from '../../harness/seeded-random';

export const T0 = 1_700_000_000_000n;

/** mulberry32: the harness's seeded PRNG. */
export const rng = seededRandom;

/** A tree being driven by random txns; every txn is logged in `log` (as the store would have it) and applied. */
export class TxnDriver {
  readonly log: TxnEntry[] = [];
  readonly sessions = new Map<bigint, number>();
  private nextSession = 0x1000000000000001n;
  private readonly r: () => number;

  constructor(
    readonly tree: DataTree,
    seed: number,
    /** How many distinct ACL lists the creates and setACLs pick from (more = new ACL references mid-snapshot). */
    private readonly aclVariety = 12,
  ) {
    this.r = rng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.int(xs.length)];
  }

  private acl(): ACL[] {
    const k = this.int(this.aclVariety);
    if (k === 0) return Ids.OPEN_ACL_UNSAFE;
    if (k === 1) return Ids.READ_ACL_UNSAFE;
    return [new ACL({ perms: 31, id: new Id({ scheme: 'digest', id: `u${k}:x` }) }), new ACL({ perms: 1, id: new Id({ scheme: 'world', id: 'anyone' }) })];
  }

  private userPaths(): string[] {
    return [...this.tree.nodes.keys()].filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
  }

  private zxid(): bigint {
    return this.tree.lastProcessedZxid + 1n;
  }

  private apply(clientId: bigint, type: number, rec: JuteRecord | null): TxnEntry {
    const zxid = this.zxid();
    const header = new TxnHeader({ clientId, cxid: Number(zxid), zxid, time: T0 + zxid, type });
    const entry: TxnEntry = { header, body: rec === null ? Buffer.alloc(0) : encodeRecord(rec) };
    this.log.push(entry);
    this.tree.processTxn(header, decodeTxnBody(type, entry.body));
    if (type === OpCode.createSession) this.sessions.set(clientId, (rec as CreateSessionTxn).timeOut);
    if (type === OpCode.closeSession) this.sessions.delete(clientId);
    return entry;
  }

  /** A create's txn for a new child of a random node, or null when none fits. */
  private createTxn(): { clientId: bigint; type: number; rec: JuteRecord; path: string } | null {
    const parents = ['/', ...this.userPaths()].filter((p) => this.tree.nodes.get(p)!.stat.ephemeralOwner === 0n);
    const parentPath = this.pick(parents)!;
    const parent = this.tree.nodes.get(parentPath)!;
    const sequential = this.r() < 0.25;
    const name = sequential ? `s${String(parent.stat.cversion).padStart(10, '0')}` : String.fromCharCode(97 + this.int(5));
    const path = parentPath === '/' ? `/${name}` : `${parentPath}/${name}`;
    if (this.tree.nodes.has(path)) return null;
    const parentCVersion = parent.stat.cversion + 1;
    const data = this.r() < 0.1 ? null : Buffer.from(`d${this.int(1000)}`);
    const session = this.r() < 0.35 ? this.pick([...this.sessions.keys()]) : undefined;
    if (this.r() < 0.08) {
      return { clientId: 0n, type: OpCode.createContainer, rec: new CreateContainerTxn({ path, data, acl: this.acl(), parentCVersion }), path };
    }
    const type = this.r() < 0.5 ? OpCode.create : OpCode.create2;
    return { clientId: session ?? 0x77n, type, rec: new CreateTxn({ path, data, acl: this.acl(), ephemeral: session !== undefined, parentCVersion }), path };
  }

  private leaves(): string[] {
    return this.userPaths().filter((p) => this.tree.nodes.get(p)!.children.size === 0);
  }

  /** Applies one random valid txn and returns it. */
  step(): TxnEntry {
    for (;;) {
      const k = this.int(100);
      if (k < 6) return this.apply(this.nextSession++, OpCode.createSession, new CreateSessionTxn({ timeOut: 30000 + this.int(1000) }));
      if (k < 10) {
        const s = this.pick([...this.sessions.keys()]);
        if (s === undefined) continue;
        const paths = [...this.tree.getEphemerals(s)];
        return this.apply(s, OpCode.closeSession, new CloseSessionTxn({ paths2Delete: paths }));
      }
      if (k < 45) {
        const c = this.createTxn();
        if (c === null) continue;
        return this.apply(c.clientId, c.type, c.rec);
      }
      if (k < 60) {
        const p = this.pick(this.leaves());
        if (p === undefined || isSpecialPath(p)) continue;
        return this.apply(0x77n, this.r() < 0.9 ? OpCode.delete : OpCode.deleteContainer, new DeleteTxn({ path: p }));
      }
      if (k < 78) {
        const p = this.pick(this.userPaths());
        if (p === undefined) continue;
        const n = this.tree.nodes.get(p)!;
        return this.apply(0x77n, OpCode.setData, new SetDataTxn({ path: p, data: Buffer.from(`v${this.int(1000)}`), version: n.stat.version + 1 }));
      }
      if (k < 88) {
        const p = this.pick(this.userPaths());
        if (p === undefined) continue;
        const n = this.tree.nodes.get(p)!;
        return this.apply(0x77n, OpCode.setACL, new SetACLTxn({ path: p, acl: this.acl(), version: n.stat.aversion + 1 }));
      }
      const m = this.multi();
      if (m !== null) return m;
    }
  }

  /** A multi of independent ops: create under P, setData on Y, delete of a leaf Z (Z not P or Y); or a failed one. */
  private multi(): TxnEntry | null {
    if (this.r() < 0.15) {
      return this.apply(0x77n, OpCode.multi, new MultiTxn({ txns: [new Txn({ type: OpCode.error, data: encodeRecord(new ErrorTxn({ err: -101 })) })] }));
    }
    const c = this.createTxn();
    if (c === null || c.type === OpCode.createContainer) return null;
    const create = c.rec as CreateTxn;
    const parentOfCreate = create.path.slice(0, create.path.lastIndexOf('/')) || '/';
    const txns: Txn[] = [new Txn({ type: OpCode.create, data: encodeRecord(create) })];
    const y = this.pick(this.userPaths());
    if (y !== undefined) {
      txns.push(new Txn({ type: OpCode.setData, data: encodeRecord(new SetDataTxn({ path: y, data: Buffer.from('multi'), version: this.tree.nodes.get(y)!.stat.version + 1 })) }));
    }
    const z = this.pick(this.leaves().filter((p) => p !== parentOfCreate && p !== y && !isSpecialPath(p)));
    if (z !== undefined) txns.push(new Txn({ type: OpCode.delete, data: encodeRecord(new DeleteTxn({ path: z })) }));
    return this.apply(c.clientId, OpCode.multi, new MultiTxn({ txns }));
  }
}

/** Replays logged txns over a tree (recovery's rule: only those after `afterZxid`), keeping `sessions` in step. */
export function replay(tree: DataTree, sessions: Map<bigint, number>, log: readonly TxnEntry[], afterZxid: bigint): void {
  for (const e of log) {
    if (e.header.zxid <= afterZxid) continue;
    const rec = decodeTxnBody(e.header.type, e.body);
    tree.processTxn(e.header, rec);
    if (e.header.type === OpCode.createSession) sessions.set(e.header.clientId, (rec as CreateSessionTxn).timeOut);
    if (e.header.type === OpCode.closeSession) sessions.delete(e.header.clientId);
  }
}

/** Everything a tree holds by value: nodes (data, stat, ACL list, children), ephemerals, containers, digest, zxid. */
export function treeState(t: DataTree): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (const p of [...t.nodes.keys()].sort()) {
    const n = t.nodes.get(p)!;
    const s = copyStatPersisted(n.stat);
    nodes[p] = {
      data: n.data === null ? null : n.data.toString('hex'),
      stat: `${s.czxid} ${s.mzxid} ${s.pzxid} ${s.ctime} ${s.mtime} v${s.version} cv${s.cversion} av${s.aversion} o${s.ephemeralOwner}`,
      acl: t.aclForNode(n).map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`),
      children: [...n.children].sort(),
    };
  }
  const ephemerals: Record<string, string[]> = {};
  for (const [s, set] of t.ephemerals) if (set.size > 0) ephemerals[s.toString(16)] = [...set].sort();
  return {
    nodes,
    ephemerals,
    containers: [...t.containers].sort(),
    digest: liveDigest(t),
    zxid: t.lastProcessedZxid,
  };
}

/** The tree digest of a live tree (what Apache's DataTree keeps incrementally). */
export function liveDigest(t: DataTree): bigint {
  return treeDigest([...t.nodes].map(([path, n]) => ({ path, data: n.data, stat: n.stat })));
}
