import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateFromFile } from '../../../codegen/generate';

const ROOT = path.join(__dirname, '..', '..', '..');
const OUT = path.join(ROOT, 'src', 'proto', 'generated');

describe('generated code', () => {
  it('in src/proto/generated matches what the generator makes from codegen/zookeeper.jute', () => {
    const files = generateFromFile(path.join(ROOT, 'codegen', 'zookeeper.jute'), OUT);
    const onDisk = fs.readdirSync(OUT).filter((f) => f.endsWith('.ts')).sort();
    expect(onDisk).toEqual(files.map((f) => f.name).sort());
    for (const f of files) {
      // A mismatch here means: run `npm run codegen` and commit src/proto/generated.
      expect({ file: f.name, content: fs.readFileSync(path.join(OUT, f.name), 'utf8') }).toEqual({ file: f.name, content: f.content });
    }
  });

  it('the jute-ts-codegen command generates compilable code from any IDL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jute-gen-'));
    try {
      const idl = path.join(dir, 'x.jute');
      fs.writeFileSync(idl, 'module x.y { class P { int a; vector<ustring> b; } class Q { P p; long c; } }\n');
      const out = path.join(dir, 'out');
      const stdout = execFileSync(path.join(ROOT, 'bin', 'jute-ts-codegen'), [idl, out], { encoding: 'utf8' });
      expect(stdout).toContain('wrote 2 files');
      const src = fs.readFileSync(path.join(out, 'y.ts'), 'utf8');
      expect(src).toContain('export class Q implements Record');
      expect(src).toContain(" * class P {");
      // The generated module imports the runtime by a relative path that resolves.
      const m = /from '([^']+)'/.exec(src)![1];
      expect(fs.existsSync(path.resolve(out, m) + '.ts') || fs.existsSync(path.join(path.resolve(out, m), 'index.ts'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the command fails with file:line:column on a bad IDL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jute-gen-'));
    try {
      const idl = path.join(dir, 'bad.jute');
      fs.writeFileSync(idl, 'module m {\n  class A { int x }\n}\n');
      let err: { status: number; stderr: string } | undefined;
      try {
        execFileSync(path.join(ROOT, 'bin', 'jute-ts-codegen'), [idl, path.join(dir, 'o')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        err = e as { status: number; stderr: string };
      }
      expect(err?.status).toBe(1);
      expect(err?.stderr).toContain('bad.jute:2:19:');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
