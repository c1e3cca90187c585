import { FrameDecoder, FrameTooLargeError, JuteWriter, MalformedInputError } from '../../../src/jute';
import { loadFrameFixtures } from './fixtures';

/** Concatenates payloads as length-prefixed frames. */
function frames(...payloads: Buffer[]): Buffer {
  const w = new JuteWriter();
  for (const p of payloads) w.beginFrame().writeRaw(p).endFrame();
  return w.toBuffer();
}

describe('FrameDecoder', () => {
  const fixtures = loadFrameFixtures();
  const stream = frames(...fixtures.map((f) => f.payload));

  it('has fixtures to split', () => {
    expect(fixtures.length).toBeGreaterThan(3);
  });

  it('yields every frame when the stream is split at any byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(out.map((b) => b.toString('hex'))).toEqual(fixtures.map((f) => f.payload.toString('hex')));
      expect(d.pending).toBe(0);
    }
  });

  it('yields every frame when fed one byte at a time', () => {
    const d = new FrameDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
    expect(out.map((b) => b.toString('hex'))).toEqual(fixtures.map((f) => f.payload.toString('hex')));
  });

  it('accepts an empty frame', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from([0, 0, 0, 0]))).toEqual([Buffer.alloc(0)]);
  });

  it('does not alias caller buffers it holds across pushes', () => {
    const d = new FrameDecoder();
    const whole = frames(Buffer.from('hello'));
    const chunk = Buffer.from(whole.subarray(0, 6));
    d.push(chunk);
    chunk.fill(0); // the socket may reuse its buffer
    const [f] = d.push(whole.subarray(6));
    expect(f.toString()).toBe('hello');
  });

  it('rejects a negative length with a typed error', () => {
    const d = new FrameDecoder();
    expect(() => d.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(MalformedInputError);
  });

  it('rejects a frame over jute.maxbuffer before buffering its body', () => {
    const d = new FrameDecoder(1024);
    const head = Buffer.alloc(4);
    head.writeInt32BE(1025);
    let err: unknown;
    try {
      d.push(head);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).length).toBe(1025);
    expect((err as FrameTooLargeError).max).toBe(1024);
  });

  it('detects an oversize length even when the header arrives split', () => {
    const d = new FrameDecoder(0xfffff);
    const head = Buffer.alloc(4);
    head.writeInt32BE(0x100000);
    expect(d.push(head.subarray(0, 2))).toEqual([]);
    expect(() => d.push(head.subarray(2))).toThrow(FrameTooLargeError);
  });
});
