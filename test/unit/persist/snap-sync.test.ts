/**
 * The SNAP sync stream (issue 6 groundwork): a leader sends the snapshot
 * body and "BenWasHere" after QuorumPacket(SNAP). The body is byte for byte
 * the one in a snapshot file between header and first seal, so it is checked
 * against our file writer and against a snapshot Apache 3.8.0 wrote.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JuteReader, JuteWriter } from '../../../src/jute';
import { CorruptSnapshotError } from '../../../src/server/persist/errors';
import { readSnapSyncStream, SNAP_SIGNATURE, SnapSyncBody, SnapshotNodeSink, SnapSyncStreamReader, writeSnapSyncStream } from '../../../src/server/persist/snap-sync';
import { DataTree, SnapshotLoad } from '../../../src/server/tree/data-tree';
import { parseSnapshot, readSnapshotBody, readSnapshotStream, writeSnapshotFile } from '../../../src/server/persist/snapshot-file';
import type { SnapshotContents } from '../../../src/server/persist/types';
import { initialContents, plain, rmDir, stat, tempDir } from './persist-helpers';

const FILE_HEADER = 16;
const SIGNATURE_BYTES = 4 + SNAP_SIGNATURE.length;

/** What a body parsed to, without its raw bytes. */
/** A body's own bytes as one Buffer (the stream reader keeps them in the pieces they came in). */
const rawBytes = (b: SnapSyncBody): Buffer => (Buffer.isBuffer(b.rawBody) ? b.rawBody : Buffer.concat(b.rawBody ?? []));
const parsed = (b: SnapSyncBody) => ({ sessions: b.sessions, acls: b.acls, nodes: b.nodes });
const APACHE_SNAPSHOT = path.join(__dirname, '../../fixtures/persist/apache-3.8.0-datadir/version-2/snapshot.15');

function contentsWith(bigData = 0): SnapshotContents & { nodes: ReturnType<typeof initialContents>['nodes'] } {
  const c = initialContents();
  c.sessions.set(0x100000000000001n, 30000);
  c.sessions.set(0x100000000000002n, 4000);
  c.nodes.push({ path: '/app', data: Buffer.from('cfg'), aclRef: -1n, stat: stat({ czxid: 5n, mzxid: 5n, pzxid: 6n, cversion: 1 }) });
  c.nodes.push({ path: '/app/big', data: Buffer.alloc(bigData, 7), aclRef: 1n, stat: stat({ czxid: 6n, mzxid: 6n, pzxid: 6n }) });
  return c;
}

async function stream(contents: SnapshotContents): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  await writeSnapSyncStream(contents, (c) => {
    chunks.push(c);
  });
  return chunks;
}

describe('SNAP sync stream', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('zk-snap-sync-');
  });
  afterEach(() => rmDir(dir));

  test('takes any parents-first order, as Apache does (not only preorder), and refuses an orphan', async () => {
    const c = initialContents();
    const node = (p: string) => ({ path: p, data: Buffer.from(p), aclRef: -1n, stat: stat({}) });
    // Preorder would put /a/x right after /a; here /b comes between them.
    c.nodes.push(node('/a'), node('/b'), node('/a/x'), node('/b/y'), node('/a/x/z'));
    const bytes = Buffer.concat(await stream(c));
    const paths = (b: SnapSyncBody) => [...b.nodes].map((n) => n.path);
    expect(paths(readSnapSyncStream(new JuteReader(bytes)))).toEqual(c.nodes.map((n) => n.path));
    const reader = new SnapSyncStreamReader();
    let done;
    for (let i = 0; i < bytes.length && !done; i += 7) done = reader.push(bytes.subarray(i, i + 7));
    expect(paths(done!.body)).toEqual(c.nodes.map((n) => n.path));
    // An orphan is still refused, on both paths.
    const bad = initialContents();
    bad.nodes.push(node('/a'), node('/b'), node('/b/x'));
    // The writer refuses orphans itself, so one is made by renaming /b/x to /c/x in the bytes.
    const badBytes = Buffer.concat(await stream(bad));
    const at = badBytes.indexOf(Buffer.from('/b/x'));
    badBytes.write('/c/x', at, 'latin1');
    expect(() => readSnapSyncStream(new JuteReader(badBytes))).toThrow(/node \/c\/x has no parent before it/);
    expect(() => new SnapSyncStreamReader().push(badBytes)).toThrow(/node \/c\/x has no parent before it/);
  });

  test('round-trips, and ends with the signature', async () => {
    const contents = contentsWith(100);
    const bytes = Buffer.concat(await stream(contents));
    expect(new JuteReader(bytes, bytes.length - SIGNATURE_BYTES).readString()).toBe(SNAP_SIGNATURE);
    const back = readSnapSyncStream(new JuteReader(bytes));
    expect(plain(parsed(back))).toEqual(plain({ sessions: contents.sessions, acls: contents.acls, nodes: contents.nodes }));
    // The body's own bytes come along (a learner writes them as its snapshot file): everything before the signature.
    expect(rawBytes(back).equals(bytes.subarray(0, bytes.length - SIGNATURE_BYTES))).toBe(true);
  });

  test('its body is byte for byte a snapshot file\'s, between the header and the first seal', async () => {
    const contents = contentsWith(100);
    const bytes = Buffer.concat(await stream(contents));
    const file = await writeSnapshotFile(dir, 9n, contents, { fsync: false });
    const raw = fs.readFileSync(file);
    const body = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
    expect(raw.subarray(FILE_HEADER, FILE_HEADER + body.length).equals(body)).toBe(true);
  });

  test('reads the body of a snapshot Apache 3.8.0 wrote as Apache\'s learner would', async () => {
    const raw = await readSnapshotStream(APACHE_SNAPSHOT);
    const fromFile = parseSnapshot(raw, 'snapshot.15');
    const r = new JuteReader(raw, FILE_HEADER);
    // The body ends where the file's first seal starts (parseSnapshot above verified that seal there).
    readSnapshotBody(r, 'snapshot.15');
    const body = raw.subarray(FILE_HEADER, r.offset);
    const sent = Buffer.concat([body, new JuteWriter().writeString(SNAP_SIGNATURE).toBuffer()]);
    const back = readSnapSyncStream(new JuteReader(sent));
    expect(plain(parsed(back))).toEqual(plain({ sessions: fromFile.sessions, acls: fromFile.acls, nodes: fromFile.nodes }));
    expect([...back.nodes].length).toBeGreaterThan(4);
  });

  test('a large tree goes out in chunks', async () => {
    const chunks = await stream(contentsWith(3 << 20));
    expect(chunks.length).toBeGreaterThan(1);
    const back = readSnapSyncStream(new JuteReader(Buffer.concat(chunks)));
    expect([...back.nodes].find((n) => n.path === '/app/big')?.data?.length).toBe(3 << 20);
  });

  test('a missing signature or a cut stream is a CorruptSnapshotError', async () => {
    const bytes = Buffer.concat(await stream(contentsWith(10)));
    const unsigned = Buffer.concat([bytes.subarray(0, bytes.length - SIGNATURE_BYTES), new JuteWriter().writeString('NotBen').toBuffer()]);
    expect(() => readSnapSyncStream(new JuteReader(unsigned))).toThrow(/missing signature/);
    for (const cut of [3, 40, bytes.length - 1]) {
      expect(() => readSnapSyncStream(new JuteReader(bytes.subarray(0, cut)))).toThrow(CorruptSnapshotError);
    }
  });

  describe('SnapSyncStreamReader (the same stream, as it arrives off a socket)', () => {
    async function apacheSent(): Promise<Buffer> {
      const raw = await readSnapshotStream(APACHE_SNAPSHOT);
      const r = new JuteReader(raw, FILE_HEADER);
      readSnapshotBody(r, 'snapshot.15');
      return Buffer.concat([raw.subarray(FILE_HEADER, r.offset), new JuteWriter().writeString(SNAP_SIGNATURE).toBuffer()]);
    }

    test('split at every byte of Apache 3.8.0\'s body, it reads what readSnapSyncStream reads and hands back what follows', async () => {
      const sent = await apacheSent();
      const expected = plain(parsed(readSnapSyncStream(new JuteReader(sent))));
      const expectedRaw = sent.subarray(0, sent.length - SIGNATURE_BYTES);
      const bytes = Buffer.concat([sent, Buffer.from('next packets')]);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const reader = new SnapSyncStreamReader();
        const first = reader.push(bytes.subarray(0, cut));
        const done = first ?? reader.push(bytes.subarray(cut));
        expect(done).toBeDefined();
        expect(plain(parsed(done!.body))).toEqual(expected);
        expect(rawBytes(done!.body).equals(expectedRaw)).toBe(true);
        // The bytes after the signature in the chunk that finished the snapshot come back.
        const restEnd = first ? cut : bytes.length;
        expect(done!.rest.equals(bytes.subarray(sent.length, restEnd))).toBe(true);
        expect(reader.finished).toBe(true);
      }
    });

    test('byte by byte it never holds more than one unfinished item', async () => {
      const contents = contentsWith(100);
      const bytes = Buffer.concat(await stream(contents));
      const reader = new SnapSyncStreamReader();
      let maxHeld = 0;
      let done;
      for (let i = 0; i < bytes.length && !done; i++) {
        done = reader.push(bytes.subarray(i, i + 1));
        maxHeld = Math.max(maxHeld, reader.buffered);
      }
      expect(plain(parsed(done!.body))).toEqual(plain({ sessions: contents.sessions, acls: contents.acls, nodes: contents.nodes }));
      // The largest item is /app/big: path + 100 bytes of data + acl ref + stat.
      expect(maxHeld).toBeLessThan(4 + 8 + 4 + 100 + 8 + 60);
      expect(() => reader.push(Buffer.alloc(1))).toThrow(CorruptSnapshotError);
    });

    test('with a node sink, the tree is built as the nodes arrive, and installs as the same tree the body loads', async () => {
      const sent = await apacheSent();
      const seen: string[] = [];
      let sinkMade = 0;
      const reader = new SnapSyncStreamReader({
        nodeSink: (acls) => {
          sinkMade++;
          const load = new DataTree().beginLoad(acls);
          const sink: SnapshotNodeSink & { load: SnapshotLoad } = {
            add: (n) => {
              seen.push(n.path);
              load.add(n);
            },
            load,
          };
          return sink;
        },
      });
      // Half the stream in: some nodes are built already, before the end has arrived.
      expect(reader.push(sent.subarray(0, sent.length >> 1))).toBeUndefined();
      const early = seen.length;
      expect(early).toBeGreaterThan(0);
      const done = reader.push(sent.subarray(sent.length >> 1))!;
      expect(sinkMade).toBe(1);
      expect(seen.length).toBeGreaterThan(early);
      expect(seen).toEqual([...done.body.nodes].map((n) => n.path));
      const installed = new DataTree();
      installed.install((done.body.built as unknown as { load: SnapshotLoad }).load, 0x15n);
      const loaded = new DataTree();
      loaded.loadSnapshot(done.body, 0x15n);
      const dump = (t: DataTree) => [...t.nodes].map(([p, n]) => [p, n.data?.toString('hex') ?? null, n.acl, [...n.children].sort(), { ...t.statOf(n) }]).sort();
      expect(dump(installed)).toEqual(dump(loaded));
      expect(installed.nodeCount).toBe(loaded.nodeCount);
      expect(installed.lastProcessedZxid).toBe(0x15n);
    });

    test("a learner's sink (the tree's own load, fed from the records' bytes) builds the tree the body loads, in chunks of any size", async () => {
      const sent = await apacheSent();
      const loaded = new DataTree();
      loaded.loadSnapshot(readSnapSyncStream(new JuteReader(sent)), 0x15n);
      const dump = (t: DataTree) => [...t.nodes].map(([p, n]) => [p, n.data?.toString('hex') ?? null, n.acl, [...n.children].sort(), { ...t.statOf(n) }]).sort();
      for (const size of [1, 3, 7, 64, 1000, sent.length]) {
        const reader = new SnapSyncStreamReader({ nodeSink: (acls) => new DataTree().beginLoad(acls) });
        let done;
        for (let at = 0; at < sent.length && !done; at += size) done = reader.push(sent.subarray(at, at + size));
        expect(done!.body.built).toBeInstanceOf(SnapshotLoad);
        const installed = new DataTree();
        installed.install(done!.body.built as SnapshotLoad, 0x15n);
        expect(dump(installed)).toEqual(dump(loaded));
        expect(rawBytes(done!.body).equals(sent.subarray(0, sent.length - SIGNATURE_BYTES))).toBe(true);
      }
    });

    test('a node sink that refuses a node makes the stream a CorruptSnapshotError', async () => {
      const sent = await apacheSent();
      const reader = new SnapSyncStreamReader({
        nodeSink: () => ({
          add: (n) => {
            if (n.path !== '') throw new Error('no thanks');
          },
        }),
      });
      expect(() => reader.push(sent)).toThrow(/no thanks/);
    });

    test('damage is a CorruptSnapshotError, whichever chunk it arrives in', async () => {
      const bytes = Buffer.concat(await stream(contentsWith(10)));
      const unsigned = Buffer.concat([bytes.subarray(0, bytes.length - SIGNATURE_BYTES), new JuteWriter().writeString('NotBen').toBuffer()]);
      for (const size of [1, 5, unsigned.length]) {
        const reader = new SnapSyncStreamReader();
        expect(() => {
          for (let at = 0; at < unsigned.length; at += size) reader.push(unsigned.subarray(at, at + size));
        }).toThrow(/missing signature/);
      }
      const hugeData = new JuteWriter().writeInt(0).writeInt(0).writeString('').writeInt(0x7fff0000).toBuffer();
      expect(() => new SnapSyncStreamReader().push(hugeData)).toThrow(CorruptSnapshotError);
      expect(() => new SnapSyncStreamReader({ maxBuffer: 99 }).push(new JuteWriter().writeInt(0).writeInt(0).writeString('').writeInt(100).toBuffer())).toThrow(/node data length 100/);
    });
  });
});
