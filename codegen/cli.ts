/**
 * jute-ts-codegen <file.jute> <outdir> [--runtime <module>]
 * Generates TypeScript records from a jute IDL file.
 */
import { JuteParseError } from './parser';
import { generateFromFile, writeFiles } from './generate';

function main(argv: string[]): number {
  const args = [...argv];
  let runtime: string | undefined;
  const ri = args.indexOf('--runtime');
  if (ri >= 0) {
    runtime = args[ri + 1];
    args.splice(ri, 2);
  }
  if (args.length !== 2 || !runtime && ri >= 0) {
    process.stderr.write('usage: jute-ts-codegen <file.jute> <outdir> [--runtime <module specifier>]\n');
    return 2;
  }
  const [idl, out] = args;
  try {
    const files = generateFromFile(idl, out, runtime);
    writeFiles(out, files);
    process.stdout.write(`jute-ts-codegen: wrote ${files.length} files to ${out}\n`);
    return 0;
  } catch (e) {
    if (e instanceof JuteParseError) {
      process.stderr.write(`jute-ts-codegen: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
