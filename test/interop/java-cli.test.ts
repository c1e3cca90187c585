/**
 * Interop: Apache's Java command-line client (ZooKeeperMain, Debian
 * `zookeeper` package) against our server. Apache ZooKeeper 3.8 runs the
 * same scripts as the control, so a failure only on 'ours' is a server bug.
 *
 * One JVM runs the main script (create, create -e -s, get -s, set, ls,
 * ls -s, delete, getAcl, setAcl digest, NoAuth, addauth, deleteall); a
 * second JVM, started after the first has quit, checks that the first
 * session's ephemerals are gone and that a session without auth is refused.
 */
import { randomBytes } from 'crypto';
import { apacheAvailable, Cluster, digestOf, ourServerAvailable, startApache, startOurs } from '../harness';
import { CliRun, javaCliAvailable, parseStat, runCli } from './java-cli-runner';

const kinds = (['ours', 'apache'] as const).filter((k) => (k === 'ours' ? ourServerAvailable() : apacheAvailable()));
const STAT_FIELDS = ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren'];

if (!javaCliAvailable()) throw new Error('java or /usr/share/java/zookeeper.jar missing: run bash test/setup/ensure-deps.sh');

describe.each(kinds)('Apache ZooKeeperMain CLI against %s', (kind) => {
  let cluster: Cluster;
  const P = `/cli-${randomBytes(3).toString('hex')}`;
  const SEC = `${P}-sec`;
  const KEEP = `${P}-keep`;
  const bob = digestOf('bob', 'bob-pw');
  let main: CliRun;
  let second: CliRun;

  const mainScript: string[] = [
    `create ${P} root-data`, //                                    0
    `create -e -s ${P}/eph- ephemeral-data`, //                    1
    `create -s ${P}/seq- s`, //                                    2
    `create ${P}/child child-data`, //                             3
    `get -s ${P}`, //                                              4
    `get -s ${P}/eph-0000000000`, //                               5
    `set ${P} new-data`, //                                        6
    `get -s ${P}`, //                                              7
    `ls ${P}`, //                                                  8
    `ls -s ${P}`, //                                               9
    `delete ${P}`, //                                              10
    `delete ${P}/child`, //                                        11
    `ls ${P}`, //                                                  12
    `getAcl ${P}`, //                                              13
    `create ${SEC} s3cret`, //                                     14
    `setAcl ${SEC} digest:${bob}:cdra`, //                         15
    `get ${SEC}`, //                                               16
    `set ${SEC} overwritten`, //                                   17
    `addauth digest bob:bob-pw`, //                                18
    `get ${SEC}`, //                                               19
    `getAcl ${SEC}`, //                                            20
    `set ${SEC} overwritten`, //                                   21
    `deleteall ${P}`, //                                           22
    `ls ${P}`, //                                                  23
    `create ${KEEP} k`, //                                         24
    `create -e ${KEEP}/session-one e`, //                          25
    `ls ${KEEP}`, //                                               26
    `delete ${P}/nope`, //                                         27
    `create ${P}/no/parent x`, //                                  28
  ];
  const secondScript: string[] = [
    `ls ${KEEP}`, //                                               0: the first session's ephemeral is gone
    `get ${SEC}`, //                                               1: no auth in this session: NoAuth
    `getAcl ${SEC}`, //                                            2
    `delete ${SEC}`, //                                            3: delete needs DELETE on the (open) parent only
    `deleteall ${KEEP}`, //                                        4
    `ls /`, //                                                     5
  ];

  beforeAll(async () => {
    cluster = kind === 'ours' ? await startOurs() : await startApache();
    main = await runCli(cluster.connectString, mainScript);
    second = await runCli(cluster.connectString, secondScript);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The output of step i, with the transcript attached when the expectation fails. */
  function out(run: CliRun, i: number): string {
    return run.steps[i].output;
  }
  function expectOut(run: CliRun, i: number, expected: string | RegExp): void {
    const got = out(run, i);
    const ok = typeof expected === 'string' ? got === expected : expected.test(got);
    if (!ok) {
      throw new Error(
        `step ${i} \`${run.steps[i].command}\`:\n  expected ${expected instanceof RegExp ? expected : JSON.stringify(expected)}\n  got      ${JSON.stringify(got)}\n--- transcript ---\n${run.transcript}`,
      );
    }
  }

  test('the CLI connects, runs every command and quits cleanly', () => {
    // ZooKeeperMain exits with the code of its last failed command; the
    // marker gets (deliberately) end every script with "Node does not exist", so 1.
    expect(main.exitCode).toBe(1);
    expect(second.exitCode).toBe(1);
    expect(main.transcript).toMatch(/WatchedEvent state:SyncConnected type:None path:null/);
    for (const run of [main, second]) {
      expect(run.transcript).not.toMatch(/Exception|ConnectionLoss|Session expired/);
      expect(run.steps.filter((s) => s.output.startsWith('<no output'))).toEqual([]);
    }
  });

  test('create, create -s and create -e -s print the created path with a 10-digit suffix', () => {
    expectOut(main, 0, `Created ${P}`);
    expectOut(main, 1, `Created ${P}/eph-0000000000`);
    expectOut(main, 2, `Created ${P}/seq-0000000001`);
    expectOut(main, 3, `Created ${P}/child`);
  });

  test('get -s prints the data and all eleven stat fields', () => {
    expect(out(main, 4).split('\n')[0]).toBe('root-data');
    const st = parseStat(out(main, 4));
    expect(Object.keys(st)).toEqual(STAT_FIELDS);
    expect(st.cZxid).toMatch(/^0x[0-9a-f]+$/);
    expect(st.mZxid).toBe(st.cZxid);
    // pZxid is the zxid of the last child change: the create of P/child.
    expect(BigInt(st.pZxid)).toBeGreaterThan(BigInt(st.cZxid));
    expect(st.ctime).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}$/);
    expect(st).toMatchObject({ cversion: '3', dataVersion: '0', aclVersion: '0', ephemeralOwner: '0x0', dataLength: '9', numChildren: '3' });

    const eph = parseStat(out(main, 5));
    expect(out(main, 5).split('\n')[0]).toBe('ephemeral-data');
    expect(eph.ephemeralOwner).toMatch(/^0x[0-9a-f]+$/);
    expect(eph.ephemeralOwner).not.toBe('0x0');
    expect(eph).toMatchObject({ dataLength: '14', numChildren: '0', dataVersion: '0' });
  });

  test('set bumps dataVersion and mZxid; get shows the new data', () => {
    expectOut(main, 6, '');
    const before = parseStat(out(main, 4));
    const after = parseStat(out(main, 7));
    expect(out(main, 7).split('\n')[0]).toBe('new-data');
    expect(after).toMatchObject({ dataVersion: '1', dataLength: '8', cZxid: before.cZxid, ctime: before.ctime });
    expect(BigInt(after.mZxid)).toBeGreaterThan(BigInt(before.mZxid));
  });

  test('ls and ls -s list children sorted, ls -s adds the stat', () => {
    expectOut(main, 8, `[child, eph-0000000000, seq-0000000001]`);
    expect(out(main, 9).split('\n')[0]).toBe(`[child, eph-0000000000, seq-0000000001]`);
    expect(parseStat(out(main, 9))).toMatchObject({ numChildren: '3', dataVersion: '1', cversion: '3' });
  });

  test('delete refuses a node with children and removes a leaf', () => {
    expectOut(main, 10, `Node not empty: ${P}`);
    expectOut(main, 11, '');
    expectOut(main, 12, `[eph-0000000000, seq-0000000001]`);
    expectOut(main, 27, `Node does not exist: ${P}/nope`);
    expectOut(main, 28, `Node does not exist: ${P}/no/parent`);
  });

  test('getAcl shows world:anyone with all permissions on an open node', () => {
    expectOut(main, 13, `'world,'anyone\n: cdrwa`);
  });

  test('setAcl digest:... denies a session without that auth (NoAuth), addauth digest lets it in', () => {
    expectOut(main, 14, `Created ${SEC}`);
    expectOut(main, 15, '');
    expectOut(main, 16, `Insufficient permission : ${SEC}`);
    expectOut(main, 17, `Insufficient permission : ${SEC}`);
    expectOut(main, 18, '');
    expectOut(main, 19, 's3cret');
    expectOut(main, 20, `'digest,'${bob}\n: cdra`);
    // cdra has no WRITE: authenticated, bob still may not set.
    expectOut(main, 21, `Insufficient permission : ${SEC}`);
  });

  test('deleteall removes a whole subtree, ephemerals included', () => {
    expectOut(main, 22, '');
    expectOut(main, 23, `Node does not exist: ${P}`);
  });

  test("a second CLI session: the first one's ephemerals are gone, and it gets NoAuth without addauth", () => {
    expectOut(main, 24, `Created ${KEEP}`);
    expectOut(main, 25, `Created ${KEEP}/session-one`);
    expectOut(main, 26, `[session-one]`);
    expectOut(second, 0, '[]');
    expectOut(second, 1, `Insufficient permission : ${SEC}`);
    // 3.8 checks READ|ADMIN for getACL too.
    expectOut(second, 2, `Insufficient permission : ${SEC}`);
    expectOut(second, 3, '');
    expectOut(second, 4, '');
    expectOut(second, 5, '[zookeeper]');
  });
});
