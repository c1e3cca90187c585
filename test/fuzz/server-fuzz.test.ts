/**
 * Bad input against our server, run as a separate process (so a crash is a
 * dead process, not a dead jest worker):
 *
 *  - hand-picked bad frames and handshakes, each answered exactly as
 *    Apache ZooKeeper 3.8 answers it (the control runs the same cases);
 *  - seeded property runs (fast-check) of mutated request streams, bad
 *    handshakes and lying frame lengths.
 *
 * After every run the server must still be serving: a well-behaved client
 * connected before the fuzz (our SDK) does a write and a read; at the end a
 * new client connects, the open connections and sessions return to their
 * baseline, and the server's RSS has not run away.
 *
 * Reproduce a failure with the seed it prints: ZK_FUZZ_SEED=<n> (and
 * ZK_FUZZ_RUNS=<n> for more or fewer runs per property).
 */
import fc from 'fast-check';
import { apacheAvailable, Cluster, startApache, waitFor } from '../harness';
import { ZooKeeper } from '../../src';
import { BAD_INPUT_CASES, CaseOutcome, runCase } from './bad-input-cases';
import { MAX_BUFFER, badHandshake, handshakeBytes, mutate, mutation, serialize, validFrames } from './frame-mutators';
import { FuzzTarget, STEP_TIMEOUT_MS, mntr, reproducible, rssKb, withTimeout } from './fuzz-target';
import { RawConnection, frameWithLength } from './raw-wire';

const SEED = process.env.ZK_FUZZ_SEED ? Number(process.env.ZK_FUZZ_SEED) : 20_240_611;
const RUNS = process.env.ZK_FUZZ_RUNS ? Number(process.env.ZK_FUZZ_RUNS) : 300;
const REPRODUCE = `ZK_FUZZ_SEED=${SEED} ZK_FUZZ_RUNS=${RUNS}`;
// Each property stops early (still passing) when it has used this much time: the suite has a budget
// (the soak, test/fuzz/run-soak.sh, gives it an hour).
const SOAK = process.env.ZK_FUZZ_SOAK === '1';
const PROPERTY_TIME_LIMIT_MS = SOAK ? 3_600_000 : 45_000;
const PROPERTY_TEST_TIMEOUT_MS = PROPERTY_TIME_LIMIT_MS + 75_000;

describe(`server fuzz (seed ${SEED}, ${RUNS} runs per property)`, () => {
  let target: FuzzTarget;
  let port: number;
  let pid: number;
  let baselineConnections: number;
  let baselineSessions: number;
  let rssWarm = 0;

  beforeAll(async () => {
    // tickTime 500: the fuzz handshakes ask for a 1 ms session, clamped up to 1 s, so their sessions go quickly.
    target = await FuzzTarget.start('ours', { tickTime: 500 }, REPRODUCE);
    port = target.port;
    pid = target.pid;
    const m = await mntr(port);
    baselineConnections = Number(m.get('zk_num_alive_connections'));
    baselineSessions = Number(m.get('zk_global_sessions'));
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
  });

  const assertServing = (context: string) => target.assertServing(context);
  const endAndExpectClose = (conn: RawConnection, context: string) => target.endAndExpectClose(conn, context);
  const check = (label: string, run: () => Promise<void>) => reproducible(label, REPRODUCE, run);

  const fcParams = {
    seed: SEED,
    numRuns: RUNS,
    endOnFailure: true, // no shrinking: each run is network I/O; the seed and path reproduce it
    interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS,
    markInterruptAsFailure: false,
  };

  describe('hand-picked bad input: the same outcome as Apache ZooKeeper 3.8', () => {
    let apache: Cluster | undefined;
    const apacheOutcomes = new Map<string, CaseOutcome>();
    const ourOutcomes = new Map<string, CaseOutcome>();
    const apacheZxids = new Map<string, CaseOutcome>();
    const ourZxids = new Map<string, CaseOutcome>();
    const ZXID_CASES = BAD_INPUT_CASES.filter((c) => c.zxid);

    beforeAll(async () => {
      if (!apacheAvailable()) throw new Error('Apache ZooKeeper is not installed: run bash test/setup/ensure-deps.sh');
      apache = await startApache({ tickTime: 500 });
      const apachePort = apache.servers[0].clientPort;
      // All cases at once, one connection each: a case that leaves a server silent costs its quiet period only once.
      await Promise.all(
        BAD_INPUT_CASES.flatMap((c) => [
          runCase(apachePort, c).then((o) => apacheOutcomes.set(c.name, o)),
          runCase(port, c).then((o) => ourOutcomes.set(c.name, o)),
        ]),
      );
      // Then the zxid-sensitive cases one at a time (both servers side by side), so that a reply's
      // zxid tells whether the case made a txn: no other case's txn can get in between.
      for (const c of ZXID_CASES) {
        await Promise.all([
          runCase(apachePort, c, 1500, true).then((o) => apacheZxids.set(c.name, o)),
          runCase(port, c, 1500, true).then((o) => ourZxids.set(c.name, o)),
        ]);
      }
    }, PROPERTY_TEST_TIMEOUT_MS);
    afterAll(async () => {
      await apache?.stop();
    });

    test.each(BAD_INPUT_CASES.map((c) => [c.name]))('%s', async (name) => {
      const c = BAD_INPUT_CASES.find((x) => x.name === name)!;
      const ours = ourOutcomes.get(name);
      const theirs = apacheOutcomes.get(name);
      if (!c.unlikeApache) {
        expect({ case: name, ...ours }).toEqual({ case: name, ...theirs });
        return;
      }
      // A deliberate difference: the same replies, then each server does what it is meant to
      // (Apache: reply, then close; ours: reply, and the marker request behind it is answered).
      const { apacheThen, oursThen, why } = c.unlikeApache;
      expect({ case: name, server: 'apache', ...theirs }).toEqual({ case: name, server: 'apache', replies: theirs?.replies, then: apacheThen });
      expect({ case: name, server: 'ours', why, ...ours }).toEqual({ case: name, server: 'ours', why, replies: theirs?.replies, then: oursThen });
    });

    test.each(ZXID_CASES.map((c) => [c.name]))('reply zxids as Apache: %s', async (name) => {
      const c = BAD_INPUT_CASES.find((x) => x.name === name)!;
      const ours = ourZxids.get(name)!;
      const theirs = apacheZxids.get(name)!;
      if (c.unlikeApache) {
        // Only the connection's fate differs (see above): the replies and their zxids are Apache's.
        expect({ case: name, replies: ours.replies }).toEqual({ case: name, replies: theirs.replies });
        expect({ case: name, then: ours.then }).toEqual({ case: name, then: c.unlikeApache.oursThen });
        return;
      }
      expect({ case: name, ...ours }).toEqual({ case: name, ...theirs });
    });

    test('the server survived all of them', async () => {
      await assertServing('the hand-picked cases');
    });
  });

  test('property: mutated request streams after a valid handshake never kill or wedge the server', async () => {
    await check('mutated request streams', () => fc.assert(
      fc.asyncProperty(validFrames, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (frames, mutations) => {
        const conn = await RawConnection.open(port);
        try {
          const hs = await conn.handshake(STEP_TIMEOUT_MS, 1);
          if (!hs || hs.sessionId === 0n) throw new Error('a valid handshake was refused');
          conn.write(mutate(frames, mutations));
          await endAndExpectClose(conn, 'mutated stream');
        } finally {
          conn.destroy();
        }
        await assertServing('a mutated stream');
        rssWarm = rssWarm || rssKb(pid);
      }),
      fcParams,
    ));
    // The mutations reached the request parser: some requests were answered, some refused, some connections dropped.
    const { provoked } = target;
    expect(provoked.replies).toBeGreaterThan(0);
    expect(provoked.errorReplies).toBeGreaterThan(0);
    expect(provoked.closedByServer).toBeGreaterThan(0);
    expect(provoked.closedAfterEof).toBeGreaterThan(0);
  }, PROPERTY_TEST_TIMEOUT_MS);

  test('property: bad handshakes (junk before, instead of, or inside the ConnectRequest) are closed', async () => {
    await check('bad handshakes', () => fc.assert(
      fc.asyncProperty(badHandshake, validFrames, async (hs, frames) => {
        const conn = await RawConnection.open(port);
        try {
          conn.write(handshakeBytes(hs));
          // Whatever the handshake became, more requests after it must not confuse the server.
          conn.write(serialize(frames));
          await endAndExpectClose(conn, `bad handshake ${hs.kind}`);
        } finally {
          conn.destroy();
        }
        await assertServing(`a bad handshake (${hs.kind})`);
      }),
      fcParams,
    ));
  }, PROPERTY_TEST_TIMEOUT_MS);

  test('property: a frame length that is negative or over jute.maxbuffer closes the connection at once', async () => {
    const badLength = fc.oneof(fc.integer({ min: -0x80000000, max: -1 }), fc.integer({ min: MAX_BUFFER + 1, max: 0x7fffffff }));
    await check('bad frame lengths', () => fc.assert(
      fc.asyncProperty(validFrames, fc.nat({ max: 5 }), badLength, async (frames, which, declared) => {
        const k = which % frames.length;
        const fs2 = frames.map((f, i) => (i === k ? { ...f, declaredLength: declared } : f));
        const conn = await RawConnection.open(port);
        try {
          const hs = await conn.handshake(STEP_TIMEOUT_MS, 1);
          if (!hs || hs.sessionId === 0n) throw new Error('a valid handshake was refused');
          conn.write(serialize(fs2));
          // No EOF from us: the length alone must make the server hang up.
          if (!(await conn.closesWithin(STEP_TIMEOUT_MS))) {
            throw new Error(`frame ${k} of ${frames.length} declared length ${declared}: connection still open after ${STEP_TIMEOUT_MS} ms`);
          }
        } finally {
          conn.destroy();
        }
        await assertServing('a bad frame length');
      }),
      { ...fcParams, numRuns: Math.max(10, Math.floor(RUNS / 3)) },
    ));
  }, PROPERTY_TEST_TIMEOUT_MS);

  test('an oversize frame sent in full (jute.maxbuffer + 1 bytes) is refused by closing; others carry on', async () => {
    const conn = await RawConnection.open(port);
    try {
      const hs = await conn.handshake(STEP_TIMEOUT_MS, 1);
      expect(hs?.sessionId).not.toBe(0n);
      const payload = Buffer.alloc(MAX_BUFFER + 1, 0x41);
      payload.writeInt32BE(1, 0);
      payload.writeInt32BE(5, 4); // setData, body all 'A's
      conn.write(frameWithLength(payload.length, payload));
      expect(await conn.closesWithin(STEP_TIMEOUT_MS)).toBe(true);
    } finally {
      conn.destroy();
    }
    await assertServing('an oversize frame');
  }, 30_000);

  test('a client that floods requests and never reads its replies does not take the server down', async () => {
    const conn = await RawConnection.open(port);
    let sent = 0;
    try {
      const hs = await conn.handshake(STEP_TIMEOUT_MS, 1);
      expect(hs?.sessionId).not.toBe(0n);
      // ~16 MB of getData('/zookeeper/config') requests, written without reading a single reply.
      const frames = serialize(Array.from({ length: 2000 }, (_, i) => ({ xid: i + 1, type: 4, body: Buffer.from([0, 0, 0, 1, 0x2f, 0]) })));
      for (let i = 0; i < 40; i++) {
        conn.write(frames);
        sent += 2000;
      }
      await new Promise((r) => setTimeout(r, 500));
      await assertServing(`a flood of ${sent} unread requests`);
    } finally {
      conn.destroy();
    }
    await assertServing('the flooding client leaving');
  }, 60_000);

  test('afterwards: a new client connects, connections and sessions return to baseline, memory is bounded', async () => {
    const fresh = new ZooKeeper(target.cluster.connectString, { sessionTimeout: 10_000 });
    fresh.on('error', () => undefined);
    try {
      await withTimeout(fresh.connected(), 15_000, 'a new client connecting after the fuzz');
      const p = `/fuzz-after-${process.pid}`;
      await fresh.create(p, Buffer.from('after'));
      expect((await fresh.getData(p)).data!.toString()).toBe('after');
      await fresh.delete(p);
    } finally {
      await fresh.close();
    }
    await assertServing('the final check');

    // Every fuzz connection is gone: only the sentinel's (and mntr's own) remain.
    const conns = await waitFor(
      'alive connections back to baseline',
      async () => {
        const n = Number((await mntr(port)).get('zk_num_alive_connections'));
        return n <= baselineConnections ? n : undefined;
      },
      15_000,
      250,
    ).catch(async () => Number((await mntr(port)).get('zk_num_alive_connections')));
    expect({ aliveConnections: conns }).toEqual({ aliveConnections: baselineConnections });

    // The fuzz sessions (1 s timeouts) have all expired: only the sentinel's is left.
    expect(baselineSessions).toBeGreaterThanOrEqual(1);
    const sessions = await waitFor(
      'sessions back to baseline',
      async () => {
        const n = Number((await mntr(port)).get('zk_global_sessions'));
        return n <= baselineSessions ? n : undefined;
      },
      15_000,
      250,
    ).catch(async () => Number((await mntr(port)).get('zk_global_sessions')));
    expect({ sessions }).toEqual({ sessions: baselineSessions });

    // Rough leak check: hundreds of connections later, RSS is not a multiple of where it settled.
    const rssEnd = rssKb(pid);
    expect(rssWarm).toBeGreaterThan(0);
    expect({ rssEndKb: rssEnd, bounded: rssEnd < rssWarm * 2 + 64 * 1024 }).toEqual({ rssEndKb: rssEnd, bounded: true });
  }, 60_000);
});

