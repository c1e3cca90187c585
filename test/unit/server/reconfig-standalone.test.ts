/**
 * reconfig against a standalone server answers exactly as Apache 3.8
 * standalone does (checked live): ReconfigDisabled (-123) by default, and
 * Unimplemented (-6) with reconfigEnabled=true, which is what kazoo's own
 * test harness writes into every zoo.cfg. kazoo knows -6 (UnimplementedError)
 * and goes on; it does not know -123 and its connection thread dies, on
 * Apache exactly as on ours.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src/client/zookeeper';
import { KeeperError } from '../../../src/client/errors';
import { ErrorCode } from '../../../src/proto/constants';
import { setPrepProcessSettings } from '../../../src/server/request/prep-request-processor';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { apacheAvailable, startApache } from '../../harness';
import type { Cluster } from '../../harness';
import { kazooAvailable, SYSTEM_PYTHON } from '../../interop/kazoo-runner';

jest.setTimeout(180_000);

/** The error code our client gets for a reconfig (0 when it succeeds). */
async function reconfigCode(connectString: string): Promise<number> {
  const zk = new ZooKeeper(connectString, { sessionTimeout: 10000 });
  await zk.connected();
  try {
    await zk.reconfig({ joining: 'server.5=127.0.0.1:1234:1235;2181' });
    return 0;
  } catch (e) {
    if (e instanceof KeeperError) return e.code;
    throw e;
  } finally {
    await zk.close();
  }
}

// kazoo's reconfig, then one more request on the same client: what kazoo raised, and whether the client still works.
const KAZOO_SCRIPT = `
import json, sys, logging
logging.disable(logging.CRITICAL)
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=30)
out = {}
try:
    zk.reconfig_async(joining='server.5=127.0.0.1:1234:1235;2181', leaving=None, new_members=None, from_config=-1).get(timeout=8)
    out['reconfig'] = 'ok'
except Exception as e:
    out['reconfig'] = type(e).__name__
try:
    out['after'] = 'works' if zk.exists('/zookeeper') is not None else 'no node'
except Exception as e:
    out['after'] = type(e).__name__
zk.stop()
zk.close()
print(json.dumps(out))
`;

function kazooReconfig(connectString: string): Promise<{ reconfig: string; after: string }> {
  return new Promise((resolve, reject) =>
    execFile(SYSTEM_PYTHON, ['-c', KAZOO_SCRIPT, connectString], { timeout: 120_000, killSignal: 'SIGKILL' }, (e, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`kazoo printed no result (${e?.message ?? 'exit 0'})\n${stdout}\n${stderr.slice(-2000)}`));
      }
    }),
  );
}

describe('reconfig on our standalone server', () => {
  let dir: string;
  let ours: ZooKeeperServer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconfig-'));
    ours = await ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: dir });
  });
  afterAll(async () => {
    setPrepProcessSettings({ reconfigEnabled: false });
    await ours?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers ReconfigDisabled by default and Unimplemented with reconfigEnabled=true', async () => {
    setPrepProcessSettings({ reconfigEnabled: false });
    expect(await reconfigCode(ours.connectString)).toBe(ErrorCode.RECONFIGDISABLED);
    setPrepProcessSettings({ reconfigEnabled: true });
    expect(await reconfigCode(ours.connectString)).toBe(ErrorCode.UNIMPLEMENTED);
    // The session survives both answers.
    const zk = new ZooKeeper(ours.connectString, { sessionTimeout: 10000 });
    await zk.connected();
    expect(await zk.exists('/zookeeper')).not.toBeNull();
    await zk.close();
  });

  const describeApache = apacheAvailable() ? describe : describe.skip;
  describeApache('the same as Apache 3.8 standalone', () => {
    const apache: Record<string, Cluster> = {};
    beforeAll(async () => {
      [apache.disabled, apache.enabled] = await Promise.all([
        startApache({}),
        startApache({ extraConfig: { reconfigEnabled: 'true' } }),
      ]);
    });
    afterAll(async () => {
      await Promise.all(Object.values(apache).map((c) => c.stop()));
    });

    it('our client gets the same code from both servers', async () => {
      setPrepProcessSettings({ reconfigEnabled: false });
      expect(await reconfigCode(apache.disabled.connectString)).toBe(await reconfigCode(ours.connectString));
      setPrepProcessSettings({ reconfigEnabled: true });
      expect(await reconfigCode(apache.enabled.connectString)).toBe(await reconfigCode(ours.connectString));
      expect(await reconfigCode(apache.enabled.connectString)).toBe(ErrorCode.UNIMPLEMENTED);
    });

    const itKazoo = kazooAvailable() ? it : it.skip;
    itKazoo('kazoo sees the same on both: UnimplementedError and a working client with reconfigEnabled (no hang)', async () => {
      setPrepProcessSettings({ reconfigEnabled: true });
      const onApache = await kazooReconfig(apache.enabled.connectString);
      const onOurs = await kazooReconfig(ours.connectString);
      expect(onApache).toEqual({ reconfig: 'UnimplementedError', after: 'works' });
      expect(onOurs).toEqual(onApache);
    });

    itKazoo('kazoo sees the same on both with reconfig disabled (it does not know -123)', async () => {
      setPrepProcessSettings({ reconfigEnabled: false });
      const onApache = await kazooReconfig(apache.disabled.connectString);
      const onOurs = await kazooReconfig(ours.connectString);
      expect(onApache.reconfig).not.toBe('ok');
      expect(onOurs).toEqual(onApache);
    });
  });
});
