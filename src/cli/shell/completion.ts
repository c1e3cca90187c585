/**
 * Tab completion for the interactive shell, as zkCli's JLineZNodeCompleter
 * does it: the first word completes to a command name, a word starting with
 * "/" to the children of its parent directory on the server.
 */
import type { CliClient } from '../zk-cli-commands';

/** How long a completion may wait for the server before offering nothing. */
const COMPLETION_TIMEOUT_MS = 2000;

/** Candidates for the word under the cursor (the end of `line`), and that word: readline's completer result. */
export async function completeLine(
  line: string,
  commands: readonly string[],
  zk: Pick<CliClient, 'getChildren'> | null,
): Promise<[string[], string]> {
  const lastSpace = line.lastIndexOf(' ');
  const word = line.slice(lastSpace + 1);
  if (lastSpace < 0 || line.slice(0, lastSpace).trim() === '') {
    return [commands.filter((c) => c.startsWith(word)), word];
  }
  if (!word.startsWith('/') || zk === null) return [[], word];
  const idx = word.lastIndexOf('/');
  const dir = idx === 0 ? '/' : word.slice(0, idx);
  const prefix = word.slice(idx + 1);
  let children: string[];
  try {
    let timer: NodeJS.Timeout | undefined;
    children = await Promise.race([
      zk.getChildren(dir),
      new Promise<string[]>((resolve) => {
        timer = setTimeout(() => resolve([]), COMPLETION_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch {
    return [[], word]; // no such parent, no permission, not connected: nothing to offer
  }
  const base = word.slice(0, idx + 1);
  return [children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c), word];
}
