import {
  BadVersionError,
  ConnectionLossError,
  KeeperError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  restack,
} from '../../../src/client/errors';
import { ErrorCode } from '../../../src/proto/constants';
import { retry, isRetriable } from '../../../src/client/retry';

describe('KeeperError', () => {
  it('builds the subclass for each wire code', () => {
    const e = KeeperError.create(ErrorCode.NONODE, '/x');
    expect(e).toBeInstanceOf(NoNodeError);
    expect(e).toBeInstanceOf(KeeperError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(-101);
    expect(e.path).toBe('/x');
    expect(e.name).toBe('NoNodeError');
    expect(e.message).toBe('NONODE: /x');
    expect(KeeperError.create(-110)).toBeInstanceOf(NodeExistsError);
    expect(KeeperError.create(-103)).toBeInstanceOf(BadVersionError);
    expect(new NoNodeError().code).toBe(-101);
  });

  it('covers every code of ErrorCode except OK, and keeps unknown codes', () => {
    for (const [name, code] of Object.entries(ErrorCode)) {
      if (code === 0) continue;
      const e = KeeperError.create(code);
      expect(e.constructor).not.toBe(KeeperError);
      expect(e.code).toBe(code);
      expect(e.message).toBe(name);
    }
    const u = KeeperError.create(-999, '/p');
    expect(u.constructor).toBe(KeeperError);
    expect(u.code).toBe(-999);
    expect(u.message).toBe('UNKNOWN(-999): /p');
  });

  it('marks only retriable codes retriable', () => {
    expect(new ConnectionLossError().retriable).toBe(true);
    expect(KeeperError.create(ErrorCode.OPERATIONTIMEOUT).retriable).toBe(true);
    expect(KeeperError.create(ErrorCode.SESSIONMOVED).retriable).toBe(true);
    expect(new SessionExpiredError().retriable).toBe(false);
    expect(new NoNodeError().retriable).toBe(false);
  });

  it('carries a cause', () => {
    const cause = new Error('socket reset');
    const e = new ConnectionLossError('lost', undefined, { cause });
    expect(e.cause).toBe(cause);
  });

  it('restack puts the awaiting caller in the stack', async () => {
    const bornElsewhere = new NoNodeError(undefined, '/x'); // like an error made in the socket handler
    async function apiMethod(): Promise<void> {
      try {
        await Promise.reject(bornElsewhere);
      } catch (e) {
        throw restack(e);
      }
    }
    async function someUserFunction(): Promise<void> {
      await apiMethod();
    }
    const err = await someUserFunction().catch((e) => e);
    expect(err).toBe(bornElsewhere);
    expect(err.stack).toContain('apiMethod');
    expect(err.stack).toContain('someUserFunction');
  });
});

describe('retry', () => {
  it('retries retriable errors and returns the first success', async () => {
    let calls = 0;
    const seen: number[] = [];
    const v = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new ConnectionLossError();
        return 'ok';
      },
      { retries: 5, minTimeout: 1, maxTimeout: 2, onRetry: (_e, n) => void seen.push(n) },
    );
    expect(v).toBe('ok');
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('does not retry other errors, and rethrows them unchanged', async () => {
    let calls = 0;
    const err = new NoNodeError(undefined, '/x');
    await expect(
      retry(async () => {
        calls++;
        throw err;
      }, { minTimeout: 1 }),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('gives up after the retries with the last error', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new ConnectionLossError(`try ${calls}`);
      }, { retries: 2, minTimeout: 1, maxTimeout: 1 }),
    ).rejects.toThrow('try 3');
    expect(calls).toBe(3);
  });

  it('isRetriable looks at KeeperErrors only', () => {
    expect(isRetriable(new ConnectionLossError())).toBe(true);
    expect(isRetriable(new Error('x'))).toBe(false);
  });
});
