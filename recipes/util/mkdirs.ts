/**
 * Create with parents, and delete recursively: the two helpers every
 * recipe (and most apps) need.
 *
 * ```ts
 * await mkdirs(zk, '/app/locks/db');                  // every missing component, persistent
 * await deleteRecursive(zk, '/app');                  // children first; a missing node is fine
 * ```
 * Both retry through connection loss; SUSPENDED only delays them, LOST
 * fails them with SessionLostError.
 */
import { ACL, CreateMode, Data, KeeperError, ZooKeeper } from '../../src';
import { RecipeArgumentError } from './errors';
import { joinPath, validatePath } from './paths';
import { untilDone } from './session-retry';

/** Options of {@link mkdirs}. */
export interface MkdirsOptions {
  /** Mode of the created nodes: PERSISTENT (default) or CONTAINER (removed by the server once empty, as Curator's recipe parents). */
  mode?: typeof CreateMode.PERSISTENT | typeof CreateMode.CONTAINER;
  /** Data of the last component when it is created (default empty). */
  data?: Data;
  /** ACL of the created nodes (default open). */
  acl?: ACL[];
}

/** Creates `path` and every missing ancestor; an existing node is fine. Returns `path`. */
export async function mkdirs(zk: ZooKeeper, path: string, options: MkdirsOptions = {}): Promise<string> {
  validatePath(path);
  const mode = options.mode ?? CreateMode.PERSISTENT;
  if (mode !== CreateMode.PERSISTENT && mode !== CreateMode.CONTAINER) {
    throw new RecipeArgumentError(`mkdirs: mode must be PERSISTENT or CONTAINER (got ${mode})`);
  }
  if (path === '/') return path;
  // Fast path: most calls find the node already there.
  if ((await untilDone(zk, 'mkdirs', () => zk.exists(path))) !== null) return path;
  const parts = path.split('/').slice(1);
  let current = '';
  for (let i = 0; i < parts.length; i++) {
    current = current + '/' + parts[i];
    const last = i === parts.length - 1;
    await untilDone(zk, 'mkdirs', async () => {
      try {
        await zk.create(current, last ? options.data : undefined, { mode, acl: options.acl });
      } catch (err) {
        // NodeExists: someone (or our own lost reply) made it.
        if (err instanceof KeeperError && err.code === -110) return;
        throw err;
      }
    });
  }
  return path;
}

/** Deletes `path` and everything below it (children first). A missing node is fine. */
export async function deleteRecursive(zk: ZooKeeper, path: string): Promise<void> {
  validatePath(path);
  if (path === '/') throw new RecipeArgumentError('deleteRecursive: refusing to delete the root');
  for (let attempt = 0; attempt < 100; attempt++) {
    let children: string[];
    try {
      children = await untilDone(zk, 'deleteRecursive', () => zk.getChildren(path));
    } catch (err) {
      if (err instanceof KeeperError && err.code === -101) return;
      throw err;
    }
    for (const child of children) await deleteRecursive(zk, joinPath(path, child));
    try {
      await untilDone(zk, 'deleteRecursive', () => zk.delete(path));
      return;
    } catch (err) {
      if (err instanceof KeeperError && err.code === -101) return;
      // NotEmpty: a child appeared meanwhile: list again.
      if (err instanceof KeeperError && err.code === -111) continue;
      throw err;
    }
  }
  throw new KeeperError(-111, 'deleteRecursive: children keep appearing', path);
}
