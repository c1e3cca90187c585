import * as fs from 'fs';
import * as path from 'path';

export interface FrameFixture {
  name: string;
  /** The record class in src/proto that decodes the payload (after any header). */
  records: string[];
  payload: Buffer;
}

/**
 * Known-good frames (payload bytes without the length prefix), as JSON in
 * test/fixtures/frames. Each names the records the payload holds, in order.
 */
export function loadFrameFixtures(): FrameFixture[] {
  const dir = path.join(__dirname, '..', '..', 'fixtures', 'frames');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { records: string[]; hex: string };
      return { name: f, records: j.records, payload: Buffer.from(j.hex, 'hex') };
    });
}
