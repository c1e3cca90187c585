/**
 * What a test gets back from the harness, whichever server it runs on:
 * real Apache ZooKeeper ('apache') or the in-repo TypeScript server ('ours').
 */
import type { TlsFixtures } from './tls-fixtures';

export type TargetKind = 'apache' | 'ours';

export interface StartOptions {
  /**
   * 'serving' (default) waits until srvr reports a serving mode (standalone,
   * leader, follower, observer, or read-only where enabled); 'process' only
   * waits until the client port answers four-letter words, for a member
   * restarted while its ensemble has no quorum.
   */
  waitFor?: 'serving' | 'process';
}

export interface ServerHandle {
  /** myid (1-based); 1 for standalone. */
  id: number;
  clientPort: number;
  secureClientPort?: number;
  /** "127.0.0.1:<clientPort>" */
  hostPort: string;
  /** "127.0.0.1:<secureClientPort>" when TLS is on. */
  secureHostPort?: string;
  dataDir: string;
  /** Directory holding this server's config and log files. */
  dir: string;
  /** The OS process id while running. */
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL, then wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), then wait for the process to be gone. */
  stop(): Promise<void>;
  /** Starts the server again on the same ports and data dir. */
  start(opts?: StartOptions): Promise<void>;
  /** stop() then start(). */
  restart(opts?: StartOptions): Promise<void>;
  /** srvr's Mode (standalone/leader/follower/observer/read-only), undefined when not serving. */
  mode(): Promise<string | undefined>;
  /** The last `lines` lines of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

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
