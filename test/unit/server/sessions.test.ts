import { ExpiryQueue } from '../../../src/server/session/expiry-queue';
import { checkPassword, generatePassword, JavaRandom } from '../../../src/server/session/session-password';
import { SessionTracker, initialSessionId } from '../../../src/server/session/session-tracker';

describe('ExpiryQueue', () => {
  it('buckets expiry times to the next tick and only moves an element across buckets', () => {
    const q = new ExpiryQueue<string>(1000, 0);
    expect(q.update('a', 2500, 100)).toBe(3000);
    expect(q.update('a', 2500, 300)).toBeNull(); // same bucket
    expect(q.update('a', 2500, 600)).toBe(4000);
    expect(q.poll(2999)).toEqual([]);
    expect(q.poll(3000)).toEqual([]);
    expect(q.poll(4000)).toEqual(['a']);
    expect(q.size).toBe(0);
  });
});

describe('session passwords', () => {
  it('reproduce java.util.Random bit for bit', () => {
    // new java.util.Random(42).nextInt() == -1170105035 (Java's documented sequence for seed 42).
    expect(new JavaRandom(42n).nextInt()).toBe(-1170105035);
  });

  it('are Apache-compatible: the password Apache 3.8 gave session 0x100000ea23d0000', () => {
    // Recorded from a live Apache 3.8 handshake (ConnectResponse of session 72057656889376768).
    expect(generatePassword(72057656889376768n).toString('hex')).toBe('99caba20b2ea2e019fa5ee074ba79fef');
    expect(checkPassword(72057656889376768n, Buffer.from('99caba20b2ea2e019fa5ee074ba79fef', 'hex'))).toBe(true);
    expect(checkPassword(72057656889376768n, Buffer.alloc(16))).toBe(false);
  });
});

describe('SessionTracker with an injected clock', () => {
  it('expires an untouched session after its timeout, in tick buckets, and touching postpones it', () => {
    let now = 10_000;
    const t = new SessionTracker(500, () => now, 1);
    const a = t.newSessionId();
    const b = t.newSessionId();
    expect(b).toBe(a + 1n);
    t.addSession(a, 2000);
    t.addSession(b, 2000);
    now = 11_000;
    expect(t.touchSession(b)).toBe(true);
    now = 12_500;
    expect(t.expireDue().map((s) => s.id)).toEqual([a]);
    expect(t.touchSession(a)).toBe(false); // closing: a reconnect must be told it expired
    now = 13_500;
    expect(t.expireDue().map((s) => s.id)).toEqual([b]);
  });

  it('makes ids with the server id in the top byte, like Apache', () => {
    const id = initialSessionId(0x18d2f3a4b5c, 1);
    expect(id >> 56n).toBe(1n);
  });
});
