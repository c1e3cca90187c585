/**
 * Path checks and parent creation for part B's recipes.
 * (recipes/util of part A has the general mkdirs; these few lines keep B's
 * families free of a start-up dependency on it.)
 */
import { CreateMode, NodeExistsError, NoNodeError, ZooKeeper, pathProblem } from '../../../src';
import { RecipeArgumentError } from '../../util/errors';

/** Throws RecipeArgumentError when `path` is not a valid absolute ZooKeeper path. */
export function checkRecipePath(path: string, what = 'path'): string {
  if (typeof path !== 'string') throw new RecipeArgumentError(`${what} must be a string (got ${typeof path})`);
  const problem = pathProblem(path);
  if (problem !== null) throw new RecipeArgumentError(`invalid ${what} '${path}': ${problem}`);
  return path;
}

/** Throws RecipeArgumentError when `name` cannot be one path segment. */
export function checkNodeName(name: string, what = 'name'): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || pathProblem('/' + name) !== null) {
    throw new RecipeArgumentError(`invalid ${what} '${String(name)}': must be one non-empty path segment`);
  }
  return name;
}

/** Joins a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** The parent of an absolute path. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of an absolute path. */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Creates `path` and its missing ancestors as container nodes (Curator's
 * creatingParentContainersIfNeeded); existing nodes are fine.
 */
export async function ensureContainers(zk: ZooKeeper, path: string): Promise<void> {
  if (path === '/') return;
  const segments = path.split('/').slice(1);
  let at = '';
  for (const s of segments) {
    at += '/' + s;
    try {
      await zk.create(at, null, { mode: CreateMode.CONTAINER });
    } catch (err) {
      if (err instanceof NodeExistsError) continue;
      throw err;
    }
  }
}

/**
 * Creates a node, creating missing parents as containers first when the
 * parent is missing (one round trip when the parents exist).
 */
export async function createWithParents(zk: ZooKeeper, path: string, data: Buffer | null, mode: CreateMode): Promise<string> {
  try {
    return await zk.create(path, data, { mode });
  } catch (err) {
    if (!(err instanceof NoNodeError)) throw err;
  }
  await ensureContainers(zk, parentPath(path));
  return zk.create(path, data, { mode });
}
