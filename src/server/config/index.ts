/**
 * Configuration of one server, as Apache ZooKeeper 3.8 reads it: zoo.cfg
 * (zoo-cfg.ts) in java.util.Properties syntax (java-properties.ts), system
 * properties from -D flags and zkServer.sh's environment variables
 * (system-properties.ts), and the quorum part: server.N lines, the dynamic
 * config text and myid (quorum-config.ts). The mapping to the embedded
 * server's options lives with the launcher (src/cli/server-launch.ts).
 */
export { ConfigError } from './errors';
export { parseJavaProperties } from './java-properties';
export { extractSystemPropertyFlags, splitShellWords, systemPropertiesFrom } from './system-properties';
export { formatDynamicConfig, parseServerLine, readMyid } from './quorum-config';
export type { QuorumServerSpec } from './quorum-config';
export { parseIntStrict, splitHostAndPorts } from './values';
export { loadZooCfg, parseZooCfg } from './zoo-cfg';
export type { ParseZooCfgOptions, SslConfig, ZooCfg } from './zoo-cfg';
