/**
 * Reads the users of a JAAS login file's server section, the way Apache's
 * DigestLoginModule + SaslServerCallbackHandler use it:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_bob="secret"
 *     user_super="adminsecret";
 *   };
 *
 * Every `user_<name>="<password>"` option of the section defines one user.
 * The section name is `Server` unless zookeeper.sasl.serverconfig says otherwise.
 */
import * as fs from 'node:fs';

export class JaasConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JaasConfigError';
  }
}

/** Parses the whole file into section -> options of every login module entry. */
export function parseJaas(text: string): Map<string, Map<string, string>> {
  // Strip // and /* */ comments, which JAAS files allow.
  const src = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const sections = new Map<string, Map<string, string>>();
  const re = /([A-Za-z0-9_.-]+)\s*\{([\s\S]*?)\}\s*;/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    const opts = new Map<string, string>();
    const body = m[2];
    const optRe = /([A-Za-z0-9_.$-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/g;
    let o: RegExpExecArray | null;
    while ((o = optRe.exec(body)) !== null) opts.set(o[1], o[2] !== undefined ? o[2].replace(/\\(.)/g, '$1') : o[3]);
    sections.set(m[1], opts);
  }
  return sections;
}

/** user name -> password from the server section. */
export function loadJaasUsers(file: string, section = process.env['zookeeper.sasl.serverconfig'] ?? 'Server'): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new JaasConfigError(`cannot read JAAS config ${file}: ${(e as Error).message}`);
  }
  const sections = parseJaas(text);
  const opts = sections.get(section);
  if (!opts) throw new JaasConfigError(`JAAS config ${file} has no '${section}' section`);
  const users = new Map<string, string>();
  for (const [k, v] of opts) if (k.startsWith('user_')) users.set(k.slice(5), v);
  return users;
}
