/**
 * Retries an idempotent ZooKeeper call on retriable errors only
 * (ConnectionLoss, OperationTimeout, SessionMoved, ...: KeeperError.retriable),
 * with p-retry's exponential back-off. Any other error (NoNode, BadVersion,
 * SessionExpired, a bug in the callback) is rethrown at once.
 *
 * Only wrap calls that are safe to repeat: a create() whose reply was lost
 * may have succeeded, and the retry then fails with NodeExists.
 *
 * @example
 *   const { data } = await retry(() => zk.getData('/config'), { retries: 5 });
 */
import pRetry = require('p-retry');
import { KeeperError } from './errors';

/** How {@link retry} backs off (p-retry's options). */
export interface RetryOptions {
  /** Attempts after the first (default 3). */
  retries?: number;
  /** First delay in ms (default 100). */
  minTimeout?: number;
  /** Largest delay in ms (default 2000). */
  maxTimeout?: number;
  /** Growth factor of the delay (default 2). */
  factor?: number;
  /** Jitter the delays (default true). */
  randomize?: boolean;
  /** Called before each retry with the error and the attempt number. */
  onRetry?: (err: KeeperError, attempt: number) => void | Promise<void>;
}

/** True for a KeeperError after which the same call may be made again on the same handle (`err.retriable`). */
export function isRetriable(err: unknown): err is KeeperError {
  return err instanceof KeeperError && err.retriable;
}

/**
 * Calls `fn` (with the attempt number, from 1) until it resolves, retrying
 * with exponential back-off only while it fails with a retriable KeeperError
 * (ConnectionLoss, OperationTimeout, SessionMoved, RequestTimeout,
 * ThrottledOp). Rejects with the first other error at once, or with the last
 * retriable one when the retries run out.
 *
 * @example
 *   const { data } = await retry(() => zk.getData('/config'), { retries: 5 });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return pRetry(
    async (attempt: number) => {
      try {
        return await fn(attempt);
      } catch (err) {
        if (isRetriable(err)) throw err;
        // p-retry rethrows AbortError's originalError untouched when given an Error.
        throw new pRetry.AbortError(err instanceof Error ? err : new Error(String(err)));
      }
    },
    {
      retries: options.retries ?? 3,
      minTimeout: options.minTimeout ?? 100,
      maxTimeout: options.maxTimeout ?? 2000,
      factor: options.factor ?? 2,
      randomize: options.randomize ?? true,
      // p-retry spreads options over its defaults: an explicit undefined would replace its no-op.
      ...(options.onRetry ? { onFailedAttempt: (e: pRetry.FailedAttemptError) => options.onRetry!(e as unknown as KeeperError, e.attemptNumber) } : {}),
    },
  );
}
