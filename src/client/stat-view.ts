/**
 * A Date view of a Stat's times. Stat is a generated record (its fields are
 * the wire's: ctime/mtime are bigint milliseconds since the epoch); these
 * getters live on its prototype, so every Stat the client decodes, wherever
 * it is nested, has them, and they stay out of JSON and of equality checks.
 *
 * Importing this module (the package index does) installs them once.
 */
import { Stat } from '../proto/generated/data';

declare module '../proto/generated/data' {
  interface Stat {
    /** ctime (when the node was created) as a Date. */
    readonly ctimeDate: Date;
    /** mtime (when the node's data last changed) as a Date. */
    readonly mtimeDate: Date;
  }
}

if (!Object.prototype.hasOwnProperty.call(Stat.prototype, 'ctimeDate')) {
  Object.defineProperties(Stat.prototype, {
    ctimeDate: {
      get(this: Stat): Date {
        return new Date(Number(this.ctime));
      },
      enumerable: false,
      configurable: true,
    },
    mtimeDate: {
      get(this: Stat): Date {
        return new Date(Number(this.mtime));
      },
      enumerable: false,
      configurable: true,
    },
  });
}
