/**
 * The compact node layout (data-node.ts): Stats in shared typed-array pages,
 * small data as strings, children Sets only while there are children. These
 * tests pin the behaviours the layout could get wrong: values across pages,
 * slot reuse after deletes, a deleted node still held by someone, data
 * round trips (and no pinned pool slabs), and full 64-bit values.
 */
import fc from 'fast-check';
import { StatPersisted } from '../../../src/proto';
import { JuteReader, JuteWriter } from '../../../src/jute';
import { decodeSnapshotNode } from '../../../src/server/persist/snapshot-file';
import { DataTree } from '../../../src/server/tree/data-tree';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from '../../../src/server/tree/ephemeral-type';

const T = 1_700_000_000_000n;

describe('DataNode layout', () => {
  it('keeps each node its own Stat across many pages, and after deletes reuse slots', () => {
    const t = new DataTree();
    const n = 10_000; // more than two 4,096-slot pages
    for (let i = 0; i < n; i++) t.createNode(`/n${i}`, Buffer.from(`v${i}`), null, 0n, -1, BigInt(i + 1), T + BigInt(i), false);
    for (let i = 0; i < n; i += 3) t.deleteNode(`/n${i}`, BigInt(n + i + 1));
    // New nodes take the freed slots: the survivors must not see their values.
    for (let i = 0; i < n; i += 3) t.createNode(`/m${i}`, Buffer.from(`w${i}`), null, 0n, -1, BigInt(3 * n + i), T - BigInt(i), false);
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) {
        expect(t.getNode(`/n${i}`)).toBeUndefined();
        const m = t.getData(`/m${i}`);
        expect(m.stat.czxid).toBe(BigInt(3 * n + i));
        expect(m.stat.ctime).toBe(T - BigInt(i));
        expect(m.data!.toString()).toBe(`w${i}`);
      } else {
        const s = t.getData(`/n${i}`);
        expect(s.stat.czxid).toBe(BigInt(i + 1));
        expect(s.stat.mzxid).toBe(BigInt(i + 1));
        expect(s.stat.mtime).toBe(T + BigInt(i));
        expect(s.data!.toString()).toBe(`v${i}`);
      }
    }
  });

  it('lets a deleted node still held elsewhere keep its own values after its slot is reused', () => {
    const t = new DataTree();
    t.createNode('/a', Buffer.from('x'), null, 0n, -1, 7n, T, false);
    const held = t.getNode('/a')!;
    t.setData('/a', Buffer.from('y'), 3, 8n, T + 1n);
    t.deleteNode('/a', 9n);
    t.createNode('/b', Buffer.from('z'), null, 0n, -1, 10n, T + 2n, false);
    expect(held.stat.czxid).toBe(7n);
    expect(held.stat.mzxid).toBe(8n);
    expect(held.stat.version).toBe(3);
    expect(t.getNode('/b')!.stat.czxid).toBe(10n);
  });

  it('round-trips full signed 64-bit fields and 32-bit versions', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (a, b, v) => {
        const t = new DataTree();
        t.createNode('/x', null, null, a, -1, b, a, false);
        const node = t.getNode('/x')!;
        node.stat.version = v;
        node.stat.pzxid = a;
        expect(node.stat.ephemeralOwner).toBe(a);
        expect(node.stat.czxid).toBe(b);
        expect(node.stat.ctime).toBe(a);
        expect(node.stat.pzxid).toBe(a);
        expect(node.stat.version).toBe(v);
        expect(new StatPersisted(node.stat).czxid).toBe(b);
      }),
      { numRuns: 200 },
    );
    const t = new DataTree({ extendedTypesEnabled: true });
    t.createNode('/c', null, null, CONTAINER_EPHEMERAL_OWNER, -1, 1n, T, false);
    t.createNode('/t', null, null, ttlToEphemeralOwner(5000n), -1, 2n, T, false);
    expect(t.containers.has('/c')).toBe(true);
    expect(t.ttls.has('/t')).toBe(true);
    expect(t.getNode('/c')!.stat.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
  });

  it('returns data byte for byte (null, empty, binary, large) and never shares a small node buffer with the caller', () => {
    const t = new DataTree();
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const large = Buffer.alloc(100_000, 0xab);
    const cases: [string, Buffer | null][] = [['/null', null], ['/empty', Buffer.alloc(0)], ['/binary', binary], ['/large', large]];
    for (const [p, d] of cases) t.createNode(p, d, null, 0n, -1, 1n, T, false);
    expect(t.getData('/null').data).toBeNull();
    expect(t.getData('/empty').data).toEqual(Buffer.alloc(0));
    expect(t.getData('/binary').data).toEqual(binary);
    expect(t.getData('/large').data).toEqual(large);
    expect(t.getData('/binary').stat.dataLength).toBe(256);
    binary[0] = 99; // the caller's buffer changing later must not change the node
    expect(t.getData('/binary').data![0]).toBe(0);
  });

  it('does not pin a pool slab or a bigger frame with a large node', () => {
    const t = new DataTree();
    const frame = Buffer.alloc(10_000, 1);
    t.createNode('/big', frame.subarray(100, 5_100), null, 0n, -1, 1n, T, false);
    const kept = t.getData('/big').data!;
    expect(kept.length).toBe(5_000);
    expect(kept.buffer.byteLength).toBe(5_000);
  });

  it('gives a node a children Set only while it has children', () => {
    const t = new DataTree();
    t.createNode('/q', null, null, 0n, -1, 1n, T, false);
    for (let i = 0; i < 5; i++) t.createNode(`/q/i${i}`, null, null, 0n, -1, BigInt(i + 2), T, false);
    expect(t.getChildren('/q').children.sort()).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    for (let i = 0; i < 5; i++) t.deleteNode(`/q/i${i}`, BigInt(i + 10));
    const q = t.getNode('/q')!;
    expect(q.children.size).toBe(0);
    expect(t.getChildren('/q').children).toEqual([]);
    // The shared empty view cannot be used to add a child behind the tree's back.
    expect(() => (q.children as Set<string>).add('sneaky')).toThrow(TypeError);
    expect(t.getNode('/')!.children.has('sneaky')).toBe(false);
    expect(t.getChildren('/q').children).toEqual([]);
  });

  it('builds the same tree from snapshot records (the SNAP path, no bigints) as from decoded nodes, whatever the values', () => {
    const long = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const owner = fc.oneof(fc.constant(0n), fc.constant(CONTAINER_EPHEMERAL_OWNER), fc.constant(ttlToEphemeralOwner(5000n)), long);
    // ACL refs: the open ACL (-1), small counters, and any 64-bit value.
    const aclRef = fc.oneof(fc.constant(-1n), fc.bigInt(0n, 5n), fc.bigInt(2n ** 31n - 2n, 2n ** 31n + 2n), fc.bigInt(-(2n ** 31n) - 2n, -(2n ** 31n) + 2n), long);
    const data = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 1020, maxLength: 1100 }));
    const node = fc.record({ data, aclRef, czxid: long, mzxid: long, ctime: long, mtime: long, version: int, cversion: int, aversion: int, ephemeralOwner: owner, pzxid: long });
    fc.assert(
      fc.property(fc.array(node, { minLength: 1, maxLength: 12 }), (nodes) => {
        // The root, then /k0, /k0/k1 ... (each the parent of the next), then one sibling under the root.
        const w = new JuteWriter();
        const paths = nodes.map((_, i) => (i === nodes.length - 1 ? '/last' : '/' + nodes.slice(0, i + 1).map((__, j) => `k${j}`).join('/')));
        const records = [{ ...nodes[0], data: null, aclRef: -1n }, ...nodes];
        ['', ...paths].forEach((p, i) => {
          const n = records[i];
          w.writeString(p).writeBuffer(n.data === null ? null : Buffer.from(n.data)).writeLong(n.aclRef);
          new StatPersisted(n).serialize(w);
        });
        const bytes = w.toBuffer();
        const acls = new Map([[-1n, []], ...records.map((n) => [n.aclRef, []] as [bigint, never[]])]);
        const fromRecords = new DataTree().beginLoad(acls);
        const fromNodes = new DataTree().beginLoad(acls);
        const r = new JuteReader(bytes);
        while (r.remaining > 0) {
          const at = r.offset;
          const decoded = decodeSnapshotNode(r, bytes);
          const pathBytes = Buffer.byteLength(decoded.path);
          expect(fromRecords.addRecord(decoded.path, bytes, at + 4 + pathBytes)).toBe(r.offset);
          fromNodes.add(decoded);
        }
        const a = new DataTree();
        a.install(fromRecords, 7n);
        const b = new DataTree();
        b.install(fromNodes, 7n);
        const dump = (t: DataTree) =>
          [...t.nodes].map(([p, n]) => [p, n.data?.toString('hex') ?? null, n.acl, [...n.children].sort(), { ...t.statOf(n) }]).sort();
        expect(dump(a)).toEqual(dump(b));
        expect([...a.nodes].map(([p]) => p).sort()).toEqual(['/', ...paths, '/zookeeper', '/zookeeper/config', '/zookeeper/quota'].filter((p, i, all) => all.indexOf(p) === i).sort());
        // Ephemerals, containers and TTL nodes are filed the same way.
        for (const field of ['ephemerals', 'containers', 'ttls'] as const) expect(fromRecords[field]).toEqual(fromNodes[field]);
        expect(fromRecords.aclUses).toEqual(fromNodes.aclUses);
      }),
      { numRuns: 150 },
    );
  });
});
