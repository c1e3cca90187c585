/**
 * One server process the harness controls (Apache's JVM or our server's
 * Node process) is the testing kit's ManagedServer (src/testing); what is
 * the harness's own is the Cluster built around started servers.
 */
import { ManagedServer, SERVING_MODES, waitFor } from '../../src/testing';
import type { Cluster, TargetKind } from './cluster-types';
import { removeTempDir } from './temp-dirs';

export { ManagedServer, SERVING_MODES };
export type { LaunchSpec, ManagedServerSpec } from '../../src/testing';

/** Builds the Cluster object shared by both targets around started servers. */
export function makeCluster(
  kind: TargetKind,
  servers: ManagedServer[],
  dir: string,
  extras: Pick<Cluster, 'tls'> = {},
): Cluster {
  let stopped = false;
  const cluster: Cluster = {
    kind,
    servers,
    dir,
    tls: extras.tls,
    connectString: servers.map((s) => s.hostPort).join(','),
    secureConnectString: servers.every((s) => s.secureHostPort)
      ? servers.map((s) => s.secureHostPort).join(',')
      : undefined,
    async leader() {
      for (const s of servers) {
        const m = await s.mode();
        if (m === 'leader' || m === 'standalone') return s;
      }
      return undefined;
    },
    async waitHealthy(timeoutMs = 30_000) {
      await waitFor(`${kind} cluster to be healthy`, async () => {
        const modes = await Promise.all(servers.filter((s) => s.running()).map((s) => s.mode()));
        if (modes.length === 0 || modes.some((m) => m === undefined || !SERVING_MODES.includes(m))) return false;
        if (servers.length === 1) return true;
        return modes.filter((m) => m === 'leader').length === 1 && !modes.includes('read-only');
      }, timeoutMs, 150);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // The data is thrown away, so there is nothing to shut down cleanly.
      await Promise.all(servers.map((s) => s.kill()));
      removeTempDir(dir);
    },
  };
  return cluster;
}
