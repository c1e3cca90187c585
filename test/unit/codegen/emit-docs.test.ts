/**
 * The doc comments the emitter writes: a line naming each record's IDL
 * source, the DocSource's words for records and fields, the IDL's trailing
 * `//` comments without one, and @internal on the wire-level methods.
 */
import * as path from 'path';
import { emitTypeScript } from '../../../codegen/emit-ts';
import { generateFromFile } from '../../../codegen/generate';
import { parseJute } from '../../../codegen/parser';

const ROOT = path.join(__dirname, '..', '..', '..');

describe('emitter: doc comments', () => {
  it('keeps an IDL field comment and documents fields with it when no DocSource is given', () => {
    const model = parseJute('module a.b { class P { int n; // how many\n ustring s; } }', 'x.jute');
    expect(model.modules[0].records[0].fields.map((f) => f.comment)).toEqual(['how many', undefined]);
    const src = emitTypeScript(model, { runtimeImport: '../jute', sourceName: 'x.jute' })[0].content;
    expect(src).toContain(' * Jute record `P` from x.jute (`a.b.P`).');
    expect(src).toContain('  /** how many */\n  n: number = 0;');
    expect(src).toContain('  /** how many */\n  n: number;');
    expect(src).toContain('  s: string = \'\';');
    expect(src).not.toMatch(/\*\/\n {2}s: string/);
    expect(src).toMatch(/@internal\n {3}\*\/\n {2}serialize\(/);
  });

  it('gives every field of zookeeper.jute a description, with the real meanings for Stat', () => {
    const files = generateFromFile(path.join(ROOT, 'codegen', 'zookeeper.jute'), path.join(ROOT, 'src', 'proto', 'generated'));
    const data = files.find((f) => f.name === 'data.ts')!.content;
    expect(data).toContain('  /** The zxid of the change that created the node. */\n  czxid: bigint = 0n;');
    expect(data).toContain(' * Jute record `Stat` from zookeeper.jute (`org.apache.zookeeper.data.Stat`).');
    for (const f of files.filter((g) => g.name !== 'index.ts')) {
      // A field line (class or Fields interface) always follows the end of a doc comment.
      const lines = f.content.split('\n');
      lines.forEach((line, i) => {
        if (/^ {2}[A-Za-z0-9_]+: [^=]+(=.*)?;$/.test(line)) expect({ file: f.name, line, before: lines[i - 1] }).toMatchObject({ before: expect.stringMatching(/\*\/$/) });
      });
    }
  });
});
