/** Builders shared by the persistence tests: txn entries and small trees made from the generated records. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JuteWriter } from '../../../src/jute';
import { CreateSessionTxn, CreateTxn, Ids, OpCode, SetDataTxn, StatPersisted, TxnHeader } from '../../../src/proto';
import type { Record } from '../../../src/jute';
import type { SnapshotContents, SnapshotNode, TxnEntry } from '../../../src/server/persist/types';
import { SnapshotNodeList } from '../../../src/server/persist/snapshot-file';

export function encode(rec: Record): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}

export const SESSION = 0x1000000abcd0001n;
export const T0 = 1_700_000_000_000n;

export function createSessionEntry(zxid: bigint, session = SESSION, timeout = 30000): TxnEntry {
  return {
    header: new TxnHeader({ clientId: session, cxid: 0, zxid, time: T0 + zxid, type: OpCode.createSession }),
    body: encode(new CreateSessionTxn({ timeOut: timeout })),
  };
}

export function createEntry(zxid: bigint, p: string, data: string, parentCVersion = 1, cxid = 1): TxnEntry {
  return {
    header: new TxnHeader({ clientId: SESSION, cxid, zxid, time: T0 + zxid, type: OpCode.create }),
    body: encode(new CreateTxn({ path: p, data: Buffer.from(data), acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion })),
  };
}

export function setDataEntry(zxid: bigint, p: string, data: string, version: number): TxnEntry {
  return {
    header: new TxnHeader({ clientId: SESSION, cxid: 2, zxid, time: T0 + zxid, type: OpCode.setData }),
    body: encode(new SetDataTxn({ path: p, data: Buffer.from(data), version })),
  };
}

/** n create txns /n1../n<n> starting at zxid `from`. */
export function createEntries(from: bigint, n: number): TxnEntry[] {
  const out: TxnEntry[] = [];
  for (let i = 0; i < n; i++) out.push(createEntry(from + BigInt(i), `/n${from + BigInt(i)}`, `data-${from + BigInt(i)}`, i + 1));
  return out;
}

export function stat(fields: Partial<StatPersisted>): StatPersisted {
  return new StatPersisted(fields);
}

/** The tree a fresh Apache 3.8 server starts with ("" root, /zookeeper, /zookeeper/config, /zookeeper/quota). */
export function initialNodes(): SnapshotNode[] {
  return [
    { path: '', data: Buffer.alloc(0), aclRef: -1n, stat: stat({ cversion: 0, pzxid: 0n }) },
    { path: '/zookeeper', data: Buffer.alloc(0), aclRef: -1n, stat: stat({}) },
    { path: '/zookeeper/config', data: Buffer.alloc(0), aclRef: 1n, stat: stat({ aversion: -1 }) },
    { path: '/zookeeper/quota', data: Buffer.alloc(0), aclRef: -1n, stat: stat({}) },
  ];
}

export function initialContents(): SnapshotContents & { nodes: SnapshotNode[] } {
  return { sessions: new Map(), acls: new Map([[1n, Ids.READ_ACL_UNSAFE]]), nodes: initialNodes() };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Strips class identity so records compare by value; a lazy node list (SnapshotNodeList) compares as its nodes. */
export function plain<T>(v: T): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => {
      if (typeof x === 'bigint') return `${x}n`;
      if (x instanceof SnapshotNodeList) return [...x];
      return x;
    }),
  );
}
