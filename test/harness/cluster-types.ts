/**
 * What a test gets back from the harness, whichever server it runs on:
 * real Apache ZooKeeper ('apache') or the in-repo TypeScript server ('ours').
 */
import type { ServerHandle } from '../../src/testing';
import type { TlsFixtures } from './tls-fixtures';

export type { ServerHandle, StartOptions } from '../../src/testing';

export type TargetKind = 'apache' | 'ours';

export interface Cluster {
  kind: TargetKind;
  servers: ServerHandle[];
  /** All servers' host:port pairs, comma-separated (plain client ports). */
  connectString: string;
  /** All servers' secure host:port pairs when TLS is on. */
  secureConnectString?: string;
  tls?: TlsFixtures;
  /** Root of the cluster's temp directory. */
  dir: string;
  /** The server currently leading (srvr says leader), or the only server. */
  leader(): Promise<ServerHandle | undefined>;
  /** Waits until every running server serves and (ensemble) exactly one leads. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every process and removes the temp directory. Idempotent. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  servers?: 1 | 3;
  tls?: boolean;
  /** SASL DIGEST-MD5 users (name -> password) for the server's JAAS `Server` section. */
  sasl?: { users: Record<string, string> };
  /** Apache's superDigest form: "super:<base64 sha1 of super:password>" (see digestOf). */
  superDigest?: string;
  /** zookeeper.extendedTypesEnabled=true: TTL nodes. */
  extendedTypes?: boolean;
  /** readonlymode.enabled=true, with local sessions (what a read-only server grants). */
  readOnlyMode?: boolean;
  tickTime?: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /** jute.maxbuffer: the largest frame the server accepts (Apache's default 0xfffff). */
  juteMaxBuffer?: number;
  /** How often the container/TTL reaper runs (znode.container.checkIntervalMs); default 1000 ms. */
  containerCheckIntervalMs?: number;
  /** Apache only: the JVM's maximum heap (-Xmx) in MB; default 256, a small quickly started JVM. */
  javaHeapMb?: number;
  /** maxClientCnxns: connections one client address may hold (default 0 = unlimited, so parallel tests never hit it). */
  maxClientCnxns?: number;
  /** fsync the txn log before acknowledging (default false: test data is thrown away, and fsync only slows the suite). */
  forceSync?: boolean;
  /** Extra zoo.cfg lines (key -> value). */
  extraConfig?: Record<string, string>;
  /** Extra Java-style system properties (key -> value). */
  systemProperties?: Record<string, string>;
  /** Budget for start-up; default 30 s (60 s for an ensemble). */
  startTimeoutMs?: number;
}
