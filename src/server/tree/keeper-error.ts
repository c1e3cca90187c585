/**
 * A failure with a ZooKeeper wire error code, raised by prep/validation and
 * the read handlers and turned into a reply's `err` (or an ErrorTxn) by the
 * pipeline. Keeping the code on the error, not in the message, means callers
 * never parse text to decide what to send.
 */
import { ErrorCode } from '../../proto/constants';

/**
 * A server-side failure carrying a ZooKeeper error code: what DataTree's
 * reads and mutations throw (NONODE, NODEEXISTS...). The client's
 * counterpart is KeeperError.
 */
export class KeeperCodeError extends Error {
  /** An error of `code` (an ErrorCode), about `path` when given. */
  constructor(
    /** The ErrorCode (e.g. -101 for NONODE). */
    readonly code: number,
    /** The path the failure is about, if any. */
    readonly path?: string,
  ) {
    super(`${codeName(code)}${path !== undefined ? ` for ${path}` : ''}`);
    this.name = 'KeeperCodeError';
  }
}

const names = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v as number, k]));

export function codeName(code: number): string {
  return names.get(code) ?? `error ${code}`;
}

export const noNode = (path: string): KeeperCodeError => new KeeperCodeError(ErrorCode.NONODE, path);
export const badArguments = (path?: string): KeeperCodeError => new KeeperCodeError(ErrorCode.BADARGUMENTS, path);
