/**
 * Child process for crash-safety.test.ts: appends txns to a FileTxnStore
 * (fsync on) with several appends in flight, printing `ack <zxid>` only after
 * each append() resolved. The parent kills it with SIGKILL mid-stream.
 * Usage: node -r ts-node/register/transpile-only crash-child.ts <dataDir>
 */
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { createEntry, initialContents } from './persist-helpers';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  const store = new FileTxnStore({ dataDir, preAllocSize: 64 * 1024, fsync: true });
  const st = await store.load();
  if (st.snapshot === null && st.txns.length === 0) await store.snapshot(0n, initialContents());
  let next = st.lastZxid + 1n;
  process.stdout.write(`ready ${st.lastZxid}\n`);
  const worker = async (): Promise<void> => {
    for (;;) {
      const z = next++;
      // Batches of 1-3 entries, so multi-entry appends are exercised too.
      const n = Number(z % 3n) + 1;
      const entries = [createEntry(z, `/k${z}`, `v${z}`)];
      for (let i = 1; i < n; i++) entries.push(createEntry(next, `/k${next}`, `v${next}`)), next++;
      await store.append(entries);
      process.stdout.write(`ack ${entries.map((e) => e.header.zxid).join(' ')}\n`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

main().catch((e) => {
  process.stderr.write(`crash-child failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
