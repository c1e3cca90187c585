/** ZooKeeper's digest id: "user:" + base64(sha1("user:password")), as DigestAuthenticationProvider computes it. */
import { createHash } from 'crypto';

/** Example: `digestOf('super', 'secret')` gives the value for superDigest or a digest ACL id. */
export function digestOf(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64')}`;
}
