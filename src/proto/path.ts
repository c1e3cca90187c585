/**
 * Path rules of Apache ZooKeeper (PathUtils.validatePath), shared by the client
 * (refuse before the wire) and the server (refuse with BadArguments).
 */

/** Why a path is invalid, or null when it is valid. */
export function pathProblem(path: string, isSequential = false): string | null {
  if (typeof path !== 'string') return 'Path cannot be null';
  if (path.length === 0) return 'Path length must be > 0';
  if (path[0] !== '/') return 'Path must start with / character';
  // Apache validates a sequential create's prefix as if the suffix were already there.
  if (isSequential) return pathProblem(path + '1');
  if (path.length === 1) return null;
  if (path[path.length - 1] === '/') return 'Path must not end with / character';
  let last = '/';
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const ch = path[i];
    if (c === 0) return `null character not allowed @${i}`;
    if (ch === '/' && last === '/') return `empty node name specified @${i}`;
    if (ch === '.' && last === '.') {
      if (path[i - 2] === '/' && (i + 1 === path.length || path[i + 1] === '/')) return `relative paths not allowed @${i}`;
    } else if (ch === '.') {
      if (path[i - 1] === '/' && (i + 1 === path.length || path[i + 1] === '/')) return `relative paths not allowed @${i}`;
    } else if ((c > 0x0000 && c <= 0x001f) || (c >= 0x007f && c <= 0x009f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`;
    }
    last = ch;
  }
  return null;
}

/** The parent of a normalized absolute path ('/' for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a path ('' for '/'). */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Formats a sequential suffix the way Apache does: `%010d` of the counter (negative when it wrapped). */
export function sequenceSuffix(counter: number): string {
  if (counter < 0) return '-' + String(-counter).padStart(9, '0');
  return String(counter).padStart(10, '0');
}
