/**
 * The reconfig case of the prep processor on a leader (a ReconfigContext
 * standing in for the quorum), in Apache's order: ReconfigDisabled,
 * Unimplemented without a quorum, ReconfigInProgress (a config pending in
 * the quorum, or a reconfig prepped and not yet applied), BadVersion,
 * BadArguments before NewConfigNoQuorum before the ACL (NoAuth), and the
 * txn: a SetDataTxn of /zookeeper/config with the new config at the txn's
 * zxid as version, the node's version -1.
 */
import { Id } from '../../../src/proto/generated/data';
import { ReconfigRequest } from '../../../src/proto/generated/proto';
import { SetDataTxn } from '../../../src/proto/generated/txn';
import { ErrorCode, OpCode } from '../../../src/proto/constants';
import { parseQuorumConfigText } from '../../../src/server/quorum/dynamic-config';
import type { QuorumVerifier } from '../../../src/server/quorum/quorum-verifier';
import { PrepRequestProcessor, type ReconfigContext } from '../../../src/server/request/prep-request-processor';
import { SessionTracker } from '../../../src/server/session/session-tracker';
import { DataTree } from '../../../src/server/tree/data-tree';

const CONFIG =
  'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n' +
  'server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n' +
  'server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n' +
  'version=100000000';
const SUPER = [new Id({ scheme: 'super', id: '' })];
const SESSION = 0x1234n;

function setup(o: { enabled?: boolean; synced?: (qv: QuorumVerifier) => boolean; pendingVersion?: bigint } = {}) {
  const tree = new DataTree({ extendedTypesEnabled: false });
  const sessions = new SessionTracker(1000, Date.now, 1);
  sessions.addSession(SESSION, 30_000);
  const prep = new PrepRequestProcessor(tree, sessions, { extendedTypesEnabled: false, reconfigEnabled: o.enabled ?? true });
  const current = parseQuorumConfigText(CONFIG);
  const ctx: ReconfigContext = {
    current: () => current,
    lastSeen: () => (o.pendingVersion !== undefined ? current.withVersion(o.pendingVersion) : current),
    isQuorumSynced: o.synced ?? (() => true),
  };
  prep.reconfig = ctx;
  let zxid = 0x100000001n;
  const run = (req: Partial<ReconfigRequest>, auth: Id[] = SUPER) =>
    prep.prepare(
      { sessionId: SESSION, cxid: 1, type: OpCode.reconfig, record: new ReconfigRequest({ joiningServers: '', leavingServers: '', newMembers: '', curConfigId: -1n, ...req }), authInfo: auth },
      zxid++,
      1000n,
    );
  return { prep, run, tree };
}

const OBSERVER = 'server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2184';

describe('reconfig prep', () => {
  test('the txn: /zookeeper/config set to the new config, versioned with the zxid', () => {
    const { run } = setup();
    const p = run({ joiningServers: OBSERVER });
    expect(p.error).toBeUndefined();
    expect(p.header.type).toBe(OpCode.reconfig);
    const txn = p.txn as SetDataTxn;
    expect(txn.path).toBe('/zookeeper/config');
    expect(txn.version).toBe(-1);
    expect(Buffer.from(txn.data!).toString()).toBe(CONFIG.replace('version=100000000', `${OBSERVER}\nversion=100000001`));
  });

  test('ReconfigDisabled when off; Unimplemented without a quorum (standalone)', () => {
    expect(setup({ enabled: false }).run({ joiningServers: OBSERVER }).error?.code).toBe(ErrorCode.RECONFIGDISABLED);
    const s = setup();
    s.prep.reconfig = null;
    expect(s.run({ joiningServers: OBSERVER }).error?.code).toBe(ErrorCode.UNIMPLEMENTED);
  });

  test('ReconfigInProgress: a config pending in the quorum, or a reconfig prepped and not applied yet', () => {
    expect(setup({ pendingVersion: 0x100000005n }).run({ joiningServers: OBSERVER }).error?.code).toBe(ErrorCode.RECONFIGINPROGRESS);
    const { prep, run } = setup();
    expect(run({ joiningServers: OBSERVER }).error).toBeUndefined();
    expect(run({ leavingServers: '3' }).error?.code).toBe(ErrorCode.RECONFIGINPROGRESS);
    prep.applied(0x100000001n);
    expect(run({ leavingServers: '3' }).error).toBeUndefined();
  });

  test('BadVersion for a fromConfig other than the last seen version', () => {
    const { run } = setup();
    expect(run({ joiningServers: OBSERVER, curConfigId: 0x100000001n }).error?.code).toBe(ErrorCode.BADVERSION);
    expect(run({ joiningServers: OBSERVER, curConfigId: 0x100000000n }).error).toBeUndefined();
  });

  test('bad input before the quorum check before the ACL', () => {
    const noAuth: Id[] = [];
    expect(setup().run({ joiningServers: 'some thing' }, noAuth).error?.code).toBe(ErrorCode.BADARGUMENTS);
    expect(setup({ synced: () => false }).run({ joiningServers: OBSERVER }, noAuth).error?.code).toBe(ErrorCode.NEWCONFIGNOQUORUM);
    expect(setup().run({ joiningServers: OBSERVER }, noAuth).error?.code).toBe(ErrorCode.NOAUTH);
    expect(setup().run({ joiningServers: OBSERVER }, [new Id({ scheme: 'digest', id: 'bob:x' })]).error?.code).toBe(ErrorCode.NOAUTH);
  });
});
