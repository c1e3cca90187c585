/**
 * The error every configuration reader throws.
 */

/** A configuration problem that stops start-up; `key` names the offending setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly key?: string,
  ) {
    // Every message names its key, so an operator can find the line to fix.
    super(key !== undefined && !message.includes(key) ? `${key}: ${message}` : message);
  }
}
