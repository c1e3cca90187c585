/**
 * The window of newest logged txns a leader serves DIFFs from: contiguous,
 * bounded, never holding a txn twice, cut by TRUNC and emptied by SNAP.
 */
import { TxnHeader } from '../../../src/proto';
import type { TxnEntry } from '../../../src/server/persist/types';
import { RecentLog } from '../../../src/server/quorum/recent-log';

const txn = (zxid: bigint): TxnEntry => ({ header: new TxnHeader({ clientId: 1n, cxid: 0, zxid, time: 0n, type: 1 }), body: Buffer.alloc(0) });
const zxids = (r: RecentLog): bigint[] => r.entries().map((e) => e.header.zxid);

test('keeps the newest `limit` txns in order, skips ones it has, cuts on truncate, resets', () => {
  const r = new RecentLog(4);
  r.append([txn(1n), txn(2n), txn(3n)]);
  r.append([txn(3n), txn(4n), txn(5n)]); // 3 again (a DIFF resent after a reconnect)
  expect(zxids(r)).toEqual([2n, 3n, 4n, 5n]);
  r.truncate(3n);
  expect(zxids(r)).toEqual([2n, 3n]);
  r.truncate(10n);
  expect(zxids(r)).toEqual([2n, 3n]);
  r.reset([txn(7n), txn(8n), txn(9n), txn(10n), txn(11n)]);
  expect(zxids(r)).toEqual([8n, 9n, 10n, 11n]);
  r.reset();
  expect(zxids(r)).toEqual([]);
});
