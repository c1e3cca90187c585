/**
 * Protected create of a sequential node: the node name carries a GUID
 * (Curator: `_c_<uuid>-<name>`, kazoo: `<hex uuid><name>`), so when a
 * create succeeded on the server but its reply was lost with the
 * connection, the node is found again by that GUID instead of leaking a
 * second contender. A found node is adopted only if its ephemeralOwner is
 * this session (a node left by an older session is not ours to hold).
 */
import { randomUUID } from 'crypto';
import { CreateMode, Data, KeeperError, ZooKeeper } from '../../src';
import { mkdirs } from './mkdirs';
import { joinPath } from './paths';
import { OperationBounds, untilDone } from './session-retry';

/** Curator's protected prefix for a fresh GUID: `_c_<uuid>-`. */
export function curatorProtectedPrefix(uuid: string = randomUUID()): string {
  return `_c_${uuid}-`;
}

/** kazoo's lock prefix for a fresh GUID: `<32 hex digits>`. */
export function kazooProtectedPrefix(uuid: string = randomUUID()): string {
  return uuid.replace(/-/g, '');
}

/**
 * Looks for this create's node among the parent's children: the one starting
 * with `namePrefix` and owned by this session. Called after a lost create
 * reply, usually on a new connection, perhaps to a server that has not yet
 * applied that create: sync(parent) first, so the listing includes every
 * write committed before the look (otherwise a node that does exist is
 * missed and a second contender is created beside it).
 */
export async function findProtected(zk: ZooKeeper, parent: string, namePrefix: string, ephemeral: boolean): Promise<string | null> {
  let children: string[];
  try {
    await zk.sync(parent);
    children = await zk.getChildren(parent);
  } catch (err) {
    if (err instanceof KeeperError && err.code === -101) return null;
    throw err;
  }
  for (const child of children) {
    if (!child.startsWith(namePrefix)) continue;
    const path = joinPath(parent, child);
    const stat = await zk.exists(path);
    if (stat === null) continue;
    if (!ephemeral || stat.ephemeralOwner === zk.sessionId) return path;
  }
  return null;
}

/**
 * Creates `<parent>/<namePrefix><seq>` (sequential; ephemeral unless
 * `mode` says otherwise), creating missing parents as container nodes
 * (plain persistent where the server lacks containers). Retries through
 * connection loss; returns the created path.
 */
export async function createProtectedSequential(
  zk: ZooKeeper,
  parent: string,
  namePrefix: string,
  data: Data | undefined,
  mode: number = CreateMode.EPHEMERAL_SEQUENTIAL,
  bounds: OperationBounds = {},
): Promise<string> {
  const ephemeral = mode === CreateMode.EPHEMERAL_SEQUENTIAL;
  let mayExist = false;
  return untilDone(
    zk,
    'create',
    async () => {
      if (mayExist) {
        const found = await findProtected(zk, parent, namePrefix, ephemeral);
        if (found !== null) return found;
      }
      // From here on a lost reply may mean the node exists: look first next time.
      mayExist = true;
      try {
        return await zk.create(joinPath(parent, namePrefix), data, { mode: mode as any });
      } catch (err) {
        if (err instanceof KeeperError && err.code === -101) {
          mayExist = false;
          await ensureParents(zk, parent);
          return await zk.create(joinPath(parent, namePrefix), data, { mode: mode as any });
        }
        throw err;
      }
    },
    bounds,
  );
}

let containersUnsupported = false;

/** mkdirs with container nodes, falling back to persistent ones on a server without containers. */
export async function ensureParents(zk: ZooKeeper, path: string): Promise<void> {
  if (!containersUnsupported) {
    try {
      await mkdirs(zk, path, { mode: CreateMode.CONTAINER });
      return;
    } catch (err) {
      // Unimplemented / BadArguments: a server predating container nodes.
      if (!(err instanceof KeeperError) || (err.code !== -6 && err.code !== -8)) throw err;
      containersUnsupported = true;
    }
  }
  await mkdirs(zk, path);
}
