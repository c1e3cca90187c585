/**
 * Records the wire-scenario transcript from the real Apache ZooKeeper 3.8 into
 * test/fixtures/server/apache-3.8-transcript.txt, so the comparison test has
 * a reference even where Java is not installed.
 *
 *   npx ts-node --transpile-only test/unit/server/capture-apache-transcript.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startApache } from './apache-reference';
import { formatTranscript, runScenario } from './wire-scenario';

export const TRANSCRIPT_FIXTURE = path.join(__dirname, '../../fixtures/server/apache-3.8-transcript.txt');

async function main(): Promise<void> {
  const apache = await startApache({ tickTime: 2000 });
  try {
    const text = formatTranscript(await runScenario(apache.port));
    fs.writeFileSync(TRANSCRIPT_FIXTURE, text + '\n');
    console.log(`wrote ${TRANSCRIPT_FIXTURE}`);
  } finally {
    await apache.stop();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
