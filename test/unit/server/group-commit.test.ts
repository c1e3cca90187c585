/**
 * Group commit under load: many sessions writing at once share fsyncs, and
 * every write is still applied and answered strictly in zxid order.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ids } from '../../../src';
import { CreateRequest, OpCode } from '../../../src/proto';
import { ZooKeeperServer } from '../../../src/server';
import { ClientConnection } from '../../../src/server/net/client-connection';
import { runFourLetterWord } from '../../../src/server/net/four-letter-words';
import { RawClient } from './raw-client';

jest.setTimeout(60_000);

describe('group commit', () => {
  it('shares fsyncs among concurrent writes from many sessions and replies in zxid order', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-group-commit-'));
    const srv = await ZooKeeperServer.start({ dataDir, clientPort: 0 });
    const replies: bigint[] = [];
    const original = ClientConnection.prototype.sendResponse;
    const spy = jest.spyOn(ClientConnection.prototype, 'sendResponse').mockImplementation(function (this: ClientConnection, ...args) {
      if (args[0] > 0) replies.push(args[1]);
      return original.apply(this, args);
    });
    try {
      const SESSIONS = 20;
      const PER_SESSION = 50;
      const clients = await Promise.all(Array.from({ length: SESSIONS }, () => RawClient.connect(srv.clientPort)));
      const before = srv.durabilityStats().log!;
      const sent = clients.map((c, s) =>
        Array.from({ length: PER_SESSION }, (_, i) =>
          c.send(OpCode.create, new CreateRequest({ path: `/s${s}-n${i}`, data: Buffer.from('x'), acl: Ids.OPEN_ACL_UNSAFE, flags: 0 })),
        ),
      );
      await Promise.all(clients.map((c, s) => c.waitFor(() => c.peek().length === sent[s].length, 20_000)));
      const after = srv.durabilityStats().log!;
      for (const c of clients) {
        const frames = c.drain();
        expect(frames.every((f) => f.header.err === 0)).toBe(true);
        // Each session sees its replies in request order, with increasing zxids.
        const z = frames.map((f) => f.header.zxid);
        for (let i = 1; i < z.length; i++) expect(z[i]).toBeGreaterThan(z[i - 1]);
        c.close();
      }
      // Across all sessions, replies left the server strictly in zxid order.
      expect(replies.length).toBe(SESSIONS * PER_SESSION);
      for (let i = 1; i < replies.length; i++) expect(replies[i]).toBeGreaterThan(replies[i - 1]);
      const entries = after.entries - before.entries;
      const fsyncs = after.fsyncs - before.fsyncs;
      expect(entries).toBe(SESSIONS * PER_SESSION);
      // Many txns per fsync (one fsync per write would be 1000).
      expect(fsyncs).toBeLessThan(entries / 5);
      expect(after.maxBatchEntries).toBeGreaterThan(10);
      console.log(`group commit: ${entries} writes from ${SESSIONS} sessions in ${fsyncs} fsyncs (${(entries / fsyncs).toFixed(1)} per fsync, largest batch ${after.maxBatchEntries})`);
      // mntr reports the same counters under Apache's names.
      const mntr = runFourLetterWord('mntr', srv.fourLetterContext(), '*')!;
      expect(mntr).toMatch(new RegExp(`^zk_cnt_fsynctime\\t${after.fsyncs}$`, 'm'));
      expect(mntr).toMatch(new RegExp(`^zk_sum_sync_processor_batch_size\\t${after.entries}$`, 'm'));
      expect(mntr).toMatch(new RegExp(`^zk_max_sync_processor_batch_size\\t${after.maxBatchEntries}$`, 'm'));
    } finally {
      spy.mockRestore();
      await srv.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
