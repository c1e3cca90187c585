/**
 * Which servers the integration suite runs against, and what each can do.
 * ZK_TARGETS=apache,ours (comma list) picks targets; the default is both,
 * with 'ours' only once src/server exports ZooKeeperServer.
 */
import { startApache } from './apache-cluster';
import type { Cluster, ClusterOptions, TargetKind } from './cluster-types';
import { ourServerAvailable, startOurs } from './our-cluster';

/** Features a test may need beyond a standalone server. */
export type Feature = 'ensemble' | 'readOnly' | 'tls' | 'sasl' | 'extendedTypes';

export function targets(): TargetKind[] {
  const env = process.env.ZK_TARGETS;
  if (env && env.trim()) {
    const picked = env.split(',').map((s) => s.trim()).filter(Boolean);
    for (const k of picked) {
      if (k !== 'apache' && k !== 'ours') throw new Error(`ZK_TARGETS: unknown target '${k}' (use apache, ours)`);
    }
    return picked as TargetKind[];
  }
  return ourServerAvailable() ? ['apache', 'ours'] : ['apache'];
}

/**
 * Whether a target can run a test needing `feature`. Both run ensembles and
 * read-only mode now; the hook stays for features one target lacks.
 */
export function supports(_kind: TargetKind, _feature: Feature): boolean {
  return true;
}

/** targets() narrowed to those supporting every feature listed. */
export function targetsWith(...features: Feature[]): TargetKind[] {
  return targets().filter((k) => features.every((f) => supports(k, f)));
}

export function startTarget(kind: TargetKind, opts: ClusterOptions = {}): Promise<Cluster> {
  return kind === 'apache' ? startApache(opts) : startOurs(opts);
}
