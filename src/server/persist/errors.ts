/**
 * Typed errors of the persistence layer, so the server can tell "the disk
 * holds something we must not load" (refuse to start, like Apache) from a
 * programming error, and tests can assert on the kind.
 */
export class PersistError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A log entry failed its checksum (or is malformed) and valid entries follow
 * it, so it is not a torn tail: loading past it would skip acknowledged txns
 * and cutting there would lose them. Apache refuses to start in this case too
 * ("CRC check failed"). Set `truncateCorruptLog` to cut instead (a learner
 * that will resync from its leader can afford that).
 */
export class CorruptLogError extends PersistError {
  constructor(
    readonly file: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`corrupt txn log ${file} at offset ${offset}: ${detail}`);
  }
}

/** A log file whose header is not a ZKLG version-2 FileHeader. */
export class BadLogHeaderError extends PersistError {}

/** No snapshot could be read although snapshot files exist (Apache: "Not able to find valid snapshots"). */
export class NoValidSnapshotError extends PersistError {}

/** One snapshot file failed to parse or its checksum did not match; load() skips it and tries an older one. */
export class CorruptSnapshotError extends PersistError {}

/** A snapshot compressed with a method we cannot read (snappy). */
export class UnsupportedSnapshotCompressionError extends PersistError {}

/** Log files exist but no snapshot does: Apache refuses to start ("No snapshot found, but there are log entries"). */
export class MissingSnapshotError extends PersistError {}

/** append() got a zxid not greater than the last one appended. */
export class ZxidOrderError extends PersistError {}

/** The store was used after close(), or before load(). */
export class StoreStateError extends PersistError {}

/** dataDir and dataLogDir differ and one holds the other's files (Apache's ZOOKEEPER-2967 check). */
export class DataDirLayoutError extends PersistError {}

/** A truncation the disk cannot serve: no snapshot at or before the zxid (the leader must send a snapshot). */
export class TruncateError extends PersistError {}
