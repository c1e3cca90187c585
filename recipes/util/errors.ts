/**
 * The recipes' own errors. Errors from ZooKeeper itself stay the client's
 * KeeperError tree (SessionExpiredError, NoNodeError, ...).
 */

/** Base class of every error a recipe raises for its own reasons. */
export class RecipeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A release (or lease close) of something this object does not hold. */
export class NotHeldError extends RecipeError {}

/** An acquire that did not succeed within its timeout. */
export class AcquireTimeoutError extends RecipeError {}

/** The ZooKeeper session ended (expired, closed, auth failed): what was held or awaited under it is gone. */
export class SessionLostError extends RecipeError {}

/** A recipe object used after close(), or on a handle that is already closed. */
export class RecipeClosedError extends RecipeError {}

/** A bad argument: invalid path, negative size, wrong type. */
export class RecipeArgumentError extends RecipeError {}
