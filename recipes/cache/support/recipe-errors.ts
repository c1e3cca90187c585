/**
 * Errors of part B's recipes beyond the shared ones of recipes/util/errors
 * (RecipeArgumentError for a bad path or count, RecipeClosedError,
 * SessionLostError), plus a test for "the session ended".
 */
import { SessionExpiredError } from '../../../src';
import { RecipeError, SessionLostError } from '../../util/errors';

/** A call made in the wrong order, e.g. ack() twice, leave() before enter(). */
export class RecipeStateError extends RecipeError {}

/**
 * A write's reply was lost when the session ended and the recipe cannot tell
 * whether the server applied it. Retrying blindly could apply it twice, so
 * the caller decides.
 */
export class IndeterminateResultError extends RecipeError {}

/** True for the errors that mean the session (and the handle) is gone. */
export function isSessionEnd(err: unknown): boolean {
  return err instanceof SessionLostError || err instanceof SessionExpiredError;
}
