/**
 * Byte-level comparison with Apache ZooKeeper 3.8: the same raw-frame
 * conversation (wire-scenario.ts: ~80 steps covering every opcode family,
 * error codes, multi results, watches, SetWatches catch-up, auth, session
 * re-attach) must give the same transcript from our server as from Apache.
 * The reference is the recorded fixture; when Java is installed the test
 * also runs Apache live and checks the fixture is still what Apache says.
 */
import * as fs from 'node:fs';
import { ZooKeeperServer } from '../../../src/server';
import { apacheAvailable, startApache } from './apache-reference';
import { TRANSCRIPT_FIXTURE } from './capture-apache-transcript';
import { formatTranscript, runScenario } from './wire-scenario';

jest.setTimeout(90_000);

describe('wire compatibility with Apache ZooKeeper 3.8', () => {
  it('our server gives the recorded Apache transcript, line for line', async () => {
    const expected = fs.readFileSync(TRANSCRIPT_FIXTURE, 'utf8').replace(/\n$/, '').split('\n');
    const srv = await ZooKeeperServer.start({ clientPort: 0, tickTime: 2000 });
    try {
      const ours = formatTranscript(await runScenario(srv.clientPort)).split('\n');
      expect(ours).toEqual(expected);
    } finally {
      await srv.close();
    }
  });

  (apacheAvailable() ? it : it.skip)('the fixture still matches a live Apache 3.8', async () => {
    const expected = fs.readFileSync(TRANSCRIPT_FIXTURE, 'utf8').replace(/\n$/, '').split('\n');
    const apache = await startApache({ tickTime: 2000 });
    try {
      const live = formatTranscript(await runScenario(apache.port)).split('\n');
      expect(live).toEqual(expected);
    } finally {
      await apache.stop();
    }
  });
});
