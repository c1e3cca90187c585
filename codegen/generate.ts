import * as fs from 'fs';
import * as path from 'path';
import { emitTypeScript, EmittedFile } from './emit-ts';
import { parseJute } from './parser';
import { ZOOKEEPER_DOCS } from './record-docs';

/** The jute runtime inside this repository (what generated code imports by default). */
export const RUNTIME_DIR = path.resolve(__dirname, '..', 'src', 'jute');

/** Parses an IDL file and returns the files the TypeScript emitter makes for it. */
export function generateFromFile(idlFile: string, outDir: string, runtimeImport?: string): EmittedFile[] {
  const src = fs.readFileSync(idlFile, 'utf8');
  const model = parseJute(src, path.basename(idlFile));
  let runtime = runtimeImport;
  if (!runtime) {
    runtime = path.relative(path.resolve(outDir), RUNTIME_DIR).split(path.sep).join('/');
    if (!runtime.startsWith('.')) runtime = `./${runtime}`;
  }
  return emitTypeScript(model, { runtimeImport: runtime, sourceName: path.basename(idlFile), docs: ZOOKEEPER_DOCS });
}

/** Writes the emitted files, replacing stale generated ones. */
export function writeFiles(outDir: string, files: EmittedFile[]): void {
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) {
    if (f.endsWith('.ts') && !files.some((g) => g.name === f)) fs.unlinkSync(path.join(outDir, f));
  }
  for (const f of files) fs.writeFileSync(path.join(outDir, f.name), f.content);
}
