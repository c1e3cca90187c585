import type { JuteReader } from './reader';
import { JuteWriter } from './writer';

/** Every jute record (generated or hand-written) implements this. */
export interface Record {
  serialize(w: JuteWriter): void;
  deserialize(r: JuteReader): this;
}

/** A record class: constructible with no arguments, so a decoder can fill it. */
export interface RecordClass<T extends Record> {
  new (): T;
  /** The jute name, `module.Record`. */
  readonly juteName: string;
}

/** Encodes a record into a fresh Buffer (no frame prefix). */
export function encodeRecord(rec: Record): Buffer {
  const w = new JuteWriter();
  rec.serialize(w);
  return w.toBuffer();
}
