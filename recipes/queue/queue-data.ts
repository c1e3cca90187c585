/** Item payload checks shared by the queues. */
import { RecipeArgumentError } from '../util/errors';
import type { Data } from '../../src';

/** The bytes of an item: a Buffer, a Uint8Array or a string (UTF-8). */
export function toItemBuffer(data: Data): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new RecipeArgumentError(`a queue item must be a Buffer, Uint8Array or string (got ${data === null ? 'null' : typeof data})`);
}
