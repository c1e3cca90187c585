/**
 * Errors raised by the codec. They are typed so that a socket handler can tell
 * "this peer sent garbage, drop it" from a programming error, and so tests can
 * assert on the kind rather than on message text.
 */
export class JuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input ended before the record it promised. */
export class TruncatedInputError extends JuteError {}

/** A length prefix or count that cannot be right (negative where not allowed, past the end). */
export class MalformedInputError extends JuteError {}

/** A frame longer than jute.maxbuffer. */
export class FrameTooLargeError extends JuteError {
  constructor(
    readonly length: number,
    readonly max: number,
  ) {
    super(`frame of ${length} bytes exceeds jute.maxbuffer (${max})`);
  }
}
