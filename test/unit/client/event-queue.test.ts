import { EventQueue, runHandlers } from '../../../src/client/event-queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('EventQueue', () => {
  it('settles a reply at once when nothing is queued', () => {
    const q = new EventQueue(() => {});
    let v: unknown;
    q.reply((x) => (v = x), 42, false);
    expect(v).toBe(42);
  });

  it('delivers events and replies in arrival order; the event handler runs before the later reply resumes its awaiter', async () => {
    const q = new EventQueue(() => {});
    const log: string[] = [];
    const p = new Promise((resolve) => {
      q.event(() => void log.push('event'));
      q.reply(resolve, 'data', false);
    });
    const done = p.then((v) => log.push(`reply ${v}`));
    expect(log).toEqual([]); // events go on a later macrotask
    await done;
    expect(log).toEqual(['event', 'reply data']);
  });

  it('lets the continuation of an earlier reply run before a later event', async () => {
    const q = new EventQueue(() => {});
    const log: string[] = [];
    const first = new Promise((resolve) => q.reply(resolve, 1, false)); // settled at once
    (async () => {
      await first;
      await null; // a couple of hops, as in a user's async function
      log.push('awaiter of reply 1');
    })();
    q.event(() => void log.push('event 2'));
    await tick();
    await tick();
    expect(log).toEqual(['awaiter of reply 1', 'event 2']);
  });

  it('awaits an async handler before the next event, and replies queued behind it wait too', async () => {
    const q = new EventQueue(() => {});
    const log: string[] = [];
    let release!: () => void;
    q.event(() => {
      log.push('e1 start');
      return new Promise<void>((r) => (release = r)).then(() => void log.push('e1 end'));
    });
    q.event(() => void log.push('e2'));
    const replied = new Promise((resolve) => q.reply(resolve, 'r', false)).then(() => log.push('reply'));
    await tick();
    await tick();
    expect(log).toEqual(['e1 start']);
    release();
    await replied;
    expect(log).toEqual(['e1 start', 'e1 end', 'e2', 'reply']);
  });

  it('does not deadlock when a handler awaits a reply that arrives behind another event', async () => {
    const q = new EventQueue(() => {});
    const log: string[] = [];
    let settleInner!: (v: unknown) => void;
    let innerBypass = false;
    q.event(async () => {
      log.push('e1 start');
      // The handle tags requests issued from inside a handler (queue.inHandler).
      innerBypass = q.inHandler;
      const inner = new Promise((resolve) => (settleInner = resolve));
      log.push(`inner ${await inner}`);
    });
    await tick();
    q.event(() => void log.push('e2'));
    q.reply(settleInner, 'value', innerBypass);
    await tick();
    await tick();
    expect(innerBypass).toBe(true);
    expect(log).toEqual(['e1 start', 'inner value', 'e2']);
  });

  it('reports handler errors and keeps going', async () => {
    const errors: unknown[] = [];
    const q = new EventQueue((e) => errors.push(e));
    const log: string[] = [];
    q.event(() => {
      throw new Error('sync boom');
    });
    q.event(() => Promise.reject(new Error('async boom')));
    q.event(() => void log.push('after'));
    await tick();
    await tick();
    await tick();
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync boom', 'async boom']);
    expect(log).toEqual(['after']);
  });

  it('runHandlers calls each handler in turn, awaiting promises', async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const r = runHandlers<string>(
      [
        (a) => void log.push(`1 ${a}`),
        async (a) => {
          await null;
          log.push(`2 ${a}`);
        },
        () => {
          throw new Error('x');
        },
        (a) => void log.push(`4 ${a}`),
      ],
      'ev',
      (e) => errors.push(e),
    );
    expect(log).toEqual(['1 ev']);
    await r;
    expect(log).toEqual(['1 ev', '2 ev', '4 ev']);
    expect(errors).toHaveLength(1);
  });
});
