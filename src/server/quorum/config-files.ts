/**
 * The config files a reconfig-enabled member keeps beside its zoo.cfg, as
 * Apache's QuorumPeer.setQuorumVerifier / setLastSeenQuorumVerifier write
 * them (each file written to a temp file, fsynced and renamed, as
 * AtomicFileWritingIdiom does):
 *   - a config in force: `zoo.cfg.dynamic.<hexVersion>` (no version line),
 *     then zoo.cfg rewritten to point at it, and `zoo.cfg.dynamic.next`
 *     removed once nothing newer is pending;
 *   - a config proposed: `zoo.cfg.dynamic.next` (with its version line),
 *     which a restart reads back as the last config seen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  dynamicConfigFileName,
  dynamicConfigFileText,
  editStaticConfigText,
  nextDynamicConfigFileName,
  parseQuorumConfigText,
} from './dynamic-config';
import type { QuorumVerifier } from './quorum-verifier';

function writeAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * A config in force (setQuorumVerifier with writeToDisk). The static file
 * drops its client port keys when the dynamic config carries this
 * server's client address (needEraseClientInfoFromStaticConfig).
 */
export function writeActiveConfig(configFile: string, myId: bigint, qv: QuorumVerifier, lastSeen: QuorumVerifier): void {
  const dynamicFile = dynamicConfigFileName(configFile, qv.version);
  writeAtomic(dynamicFile, dynamicConfigFileText(qv, false));
  const erase = qv.servers.get(myId)?.clientAddress !== undefined;
  writeAtomic(configFile, editStaticConfigText(fs.readFileSync(configFile, 'utf8'), fs.realpathSync(dynamicFile), erase));
  if (qv.version === lastSeen.version) fs.rmSync(nextDynamicConfigFileName(configFile), { force: true });
}

/** A config proposed and not yet in force (setLastSeenQuorumVerifier with writeToDisk). */
export function writeNextConfig(configFile: string, qv: QuorumVerifier): void {
  writeAtomic(nextDynamicConfigFileName(configFile), dynamicConfigFileText(qv, true));
}

/** A last seen config given up (see lastSeenIsStale): its `.next` file goes. */
export function removeNextConfig(configFile: string): void {
  fs.rmSync(nextDynamicConfigFileName(configFile), { force: true });
}

/** `zoo.cfg.dynamic.next` read back at start (QuorumPeerConfig.parse), or undefined when absent or unreadable. */
export function readNextConfig(configFile: string): QuorumVerifier | undefined {
  let text: string;
  try {
    text = fs.readFileSync(nextDynamicConfigFileName(configFile), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseQuorumConfigText(text);
  } catch {
    return undefined;
  }
}
