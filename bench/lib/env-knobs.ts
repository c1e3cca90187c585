/** Benchmark knobs read from the environment, with a clear error for a bad value. */

export function positiveNumber(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got '${v}'`);
  return n;
}

export function positiveInt(name: string, dflt: number): number {
  const n = positiveNumber(name, dflt);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${n}'`);
  return n;
}
