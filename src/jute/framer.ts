import { FrameTooLargeError, MalformedInputError } from './errors';

/** Apache ZooKeeper's default jute.maxbuffer: 0xfffff bytes. */
export const DEFAULT_MAX_BUFFER = 0xfffff;

/**
 * Splits a byte stream into length-prefixed frames. Takes chunks of any size
 * (one byte at a time, or many frames at once) and yields each payload whole.
 * It throws a typed error on a negative or oversized length; the caller must
 * then drop the connection, since the stream can no longer be trusted.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrame: number = DEFAULT_MAX_BUFFER) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds a chunk; returns the frames it completed (payloads without the length prefix). */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.buffered === 0) {
      // Fast path: parse straight from the chunk, keep only a leftover tail.
      let pos = 0;
      while (chunk.length - pos >= 4) {
        const len = this.checkLength(chunk.readInt32BE(pos));
        if (chunk.length - pos - 4 < len) break;
        frames.push(chunk.subarray(pos + 4, pos + 4 + len));
        pos += 4 + len;
      }
      if (pos < chunk.length) this.hold(chunk.subarray(pos));
      return frames;
    }
    this.hold(chunk);
    for (;;) {
      if (this.buffered < 4) return frames;
      const head = this.peekHeader();
      const len = this.checkLength(head);
      if (this.buffered - 4 < len) return frames;
      const all = this.take(4 + len);
      frames.push(all.subarray(4));
    }
  }

  private checkLength(len: number): number {
    if (len < 0) throw new MalformedInputError(`negative frame length ${len}`);
    if (len > this.maxFrame) throw new FrameTooLargeError(len, this.maxFrame);
    return len;
  }

  private hold(b: Buffer): void {
    // Copy: the socket may reuse its buffer, and a subarray would pin a large one.
    this.chunks.push(Buffer.from(b));
    this.buffered += b.length;
  }

  private peekHeader(): number {
    if (this.chunks[0].length >= 4) return this.chunks[0].readInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(this.buffered, 8));
    return head.readInt32BE(0);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  reset(): void {
    this.chunks = [];
    this.buffered = 0;
  }
}
