/**
 * Path checks and joins shared by the recipes: a bad path is refused at
 * construction with RecipeArgumentError, not at the first server call.
 */
import { pathProblem } from '../../src';
import { RecipeArgumentError } from './errors';

/** Returns `path` when it is a valid absolute ZooKeeper path (not ending in '/'), else throws RecipeArgumentError. */
export function validatePath(path: unknown, what = 'path'): string {
  if (typeof path !== 'string') throw new RecipeArgumentError(`${what} must be a string (got ${typeof path})`);
  const problem = pathProblem(path);
  if (problem !== null) throw new RecipeArgumentError(`invalid ${what} '${path}': ${problem}`);
  return path;
}

/** Joins a parent path and a child name: join('/', 'a') = '/a', join('/a', 'b') = '/a/b'. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** The last component of a path: nodeName('/a/b') = 'b'. */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The parent of a path: parentPath('/a/b') = '/a', parentPath('/a') = '/'. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
