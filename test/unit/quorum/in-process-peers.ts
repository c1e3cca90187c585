/**
 * A reconfig-enabled ensemble of real QuorumPeers in this process (loopback
 * ports, tickTime 200, no fsync, super:test as the super user), for tests
 * that watch what each member logs while a reconfig changes membership.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src';
import { QuorumPeer } from '../../../src/server/quorum/quorum-peer';
import { MajorityQuorum, type QuorumServer } from '../../../src/server/quorum/quorum-verifier';
import { digestOf } from '../../harness/digest';
import { waitFor } from '../../harness/four-letter-words';
import { freePorts } from '../../harness/ports';

/** The auth of the super user every peer here accepts (reconfig needs it). */
export const SUPER = [{ scheme: 'digest', auth: 'super:test' }];

export interface PeerMember {
  sid: bigint;
  clientPort: number;
  dataDir: string;
  peer?: QuorumPeer;
  /** Everything its peer logged, in order. */
  log: string[];
  /** Set by a test that closes the peer itself. */
  closing?: Promise<void>;
}

export class InProcessPeers {
  readonly members: PeerMember[] = [];
  /** The config lines the peers started from, by sid order. */
  readonly servers: QuorumServer[] = [];
  private readonly clients: ZooKeeper[] = [];
  private root = '';

  /**
   * Starts `voters` participants and then `observers` observers (sids 1..n).
   * `onLog` sees each line as it is logged, after it is kept.
   */
  async start(label: string, voters: number, observers = 0, onLog?: (m: PeerMember, msg: string) => void): Promise<void> {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `zk-peer-${label}-`));
    const n = voters + observers;
    const ports = await freePorts(3 * n);
    for (let i = 0; i < n; i++) {
      const sid = BigInt(i + 1);
      const type = i < voters ? 'participant' : 'observer';
      this.servers.push({ sid, host: '127.0.0.1', quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2], type, clientAddress: `127.0.0.1:${ports[3 * i]}` });
      this.members.push({ sid, clientPort: ports[3 * i], dataDir: path.join(this.root, `s${sid}`), log: [] });
    }
    const verifier = new MajorityQuorum(this.servers);
    await Promise.all(
      this.members.map(async (m) => {
        m.peer = await QuorumPeer.start({
          myId: m.sid,
          verifier,
          initLimit: 10,
          syncLimit: 5,
          server: { dataDir: m.dataDir, clientPort: m.clientPort, tickTime: 200, forceSync: false, fourLetterWordWhitelist: '*', superDigest: digestOf('super', 'test'), reconfigEnabled: true },
          logger: (msg) => {
            m.log.push(msg);
            onLog?.(m, msg);
          },
        });
      }),
    );
  }

  /** A path in the ensemble's temp dir (removed by stop()). */
  pathIn(name: string): string {
    return path.join(this.root, name);
  }

  member(sid: bigint): PeerMember {
    return this.members.find((m) => m.sid === sid)!;
  }

  /** The last lines all members logged, tagged with their sid: what a failed wait prints. */
  explain(): string {
    return this.members.flatMap((m) => m.log.map((l) => `[${m.sid}] ${l}`)).slice(-80).join('\n');
  }

  /** A connected handle on `ms`, closed by stop(). */
  async connect(ms: PeerMember[], authInfo?: typeof SUPER): Promise<ZooKeeper> {
    const zk = new ZooKeeper(ms.map((m) => `127.0.0.1:${m.clientPort}`).join(','), { sessionTimeout: 6000, authInfo });
    zk.on('error', () => undefined);
    this.clients.push(zk);
    await zk.connected();
    return zk;
  }

  /** Polls `probe` for up to 30 s; the failure shows the members' logs. */
  waitUntil(what: string, probe: () => boolean | Promise<boolean>): Promise<boolean> {
    return waitFor(what, async () => (await probe()) || undefined, 30_000, 50, () => this.explain());
  }

  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.close().catch(() => undefined);
    for (const m of this.members) await (m.closing ?? m.peer?.close())?.catch(() => undefined);
    if (this.root) fs.rmSync(this.root, { recursive: true, force: true });
  }
}
