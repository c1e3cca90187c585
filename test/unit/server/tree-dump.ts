/**
 * Reads a whole znode tree through the public client (data, full Stat, ACL
 * of every node), so two servers can be compared node by node, whatever
 * wrote their data.
 */
import { ZooKeeper } from '../../../src';

export interface NodeDump {
  path: string;
  data: string;
  stat: Record<string, string>;
  acl: string[];
}

/** Connects our client, resolving once the session is up. */
export async function connectClient(connectString: string, opts: ConstructorParameters<typeof ZooKeeper>[1] = {}): Promise<ZooKeeper> {
  const zk = new ZooKeeper(connectString, { sessionTimeout: 10_000, connectTimeout: 10_000, ...opts });
  zk.on('error', () => undefined);
  try {
    await zk.connected();
  } catch (e) {
    // A refused handle would keep reconnecting in the background.
    await zk.close().catch(() => undefined);
    throw e;
  }
  return zk;
}

/** Every node under `root`, parents before children, children sorted. */
export async function dumpTree(zk: ZooKeeper, root = '/'): Promise<NodeDump[]> {
  const out: NodeDump[] = [];
  const visit = async (path: string): Promise<void> => {
    const { data, stat } = await zk.getData(path);
    const { acl } = await zk.getACL(path);
    const s: Record<string, string> = {};
    for (const [k, v] of Object.entries(stat)) s[k] = String(v);
    out.push({ path, data: (data ?? Buffer.alloc(0)).toString('hex'), stat: s, acl: acl.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`) });
    const children = (await zk.getChildren(path)).sort();
    for (const c of children) await visit(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  await visit(root);
  return out;
}

/** Polls until `cond` holds, failing after `timeoutMs`. */
export async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
