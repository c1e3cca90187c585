/**
 * `await using` support. Node 20 defines Symbol.asyncDispose (as
 * Symbol.for('nodejs.asyncDispose')); an older runtime gets the same
 * registered symbol, so TypeScript's downlevelled `await using` finds it.
 */
if (typeof (Symbol as { asyncDispose?: symbol }).asyncDispose !== 'symbol') {
  Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('nodejs.asyncDispose'), configurable: false, writable: false });
}

export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose;
