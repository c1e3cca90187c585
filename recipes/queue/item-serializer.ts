/**
 * The byte format of Curator's DistributedQueue and DistributedPriorityQueue
 * items (its ItemSerializer), so a Curator consumer can read what we put and
 * the other way round: int32 version 0x00010001, then per item the opcode
 * byte 0x01, an int32 length and the bytes, and the opcode 0x02 at the end
 * (one node may carry several items: Curator's putMulti).
 */
import { MarshallingError } from '../../src';

const VERSION = 0x00010001;
const ITEM_OPCODE = 0x01;
const EOF_OPCODE = 0x02;

/** Encodes items into one node's data. */
export function serializeItems(items: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeInt32BE(VERSION, 0);
  parts.push(head);
  for (const item of items) {
    const h = Buffer.alloc(5);
    h.writeUInt8(ITEM_OPCODE, 0);
    h.writeInt32BE(item.length, 1);
    parts.push(h, item);
  }
  parts.push(Buffer.from([EOF_OPCODE]));
  return Buffer.concat(parts);
}

/** Decodes one node's data; MarshallingError when it is not in the format. */
export function deserializeItems(data: Buffer | null, path?: string): Buffer[] {
  const bytes = data ?? Buffer.alloc(0);
  const fail = (why: string): never => {
    throw new MarshallingError(`queue item ${path ?? ''} is not in Curator's item format: ${why}`, path);
  };
  if (bytes.length < 5) fail(`${bytes.length} bytes`);
  const version = bytes.readInt32BE(0);
  if (version !== VERSION) fail(`version 0x${(version >>> 0).toString(16)}`);
  const items: Buffer[] = [];
  let at = 4;
  for (;;) {
    if (at >= bytes.length) fail('no end marker');
    const op = bytes.readUInt8(at++);
    if (op === EOF_OPCODE) return items;
    if (op !== ITEM_OPCODE) fail(`opcode ${op} at ${at - 1}`);
    if (at + 4 > bytes.length) fail('truncated length');
    const size = bytes.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > bytes.length) fail(`bad size ${size}`);
    items.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
}
