/**
 * The network between the kit's members, and between them and clients,
 * made of loopback TCP proxies so that partitions are real.
 *
 * Why proxies per directed pair: every member gets its own zoo.cfg in which
 * its own server line has its real quorum and election ports, and each
 * other member's line points at the proxy for that directed pair (this
 * member -> that member). Every connection a member opens to a peer, for
 * the election or for ZAB, therefore runs through the proxy of that pair,
 * and cutting (or black-holing) the proxies between two groups partitions
 * them on both ports, in both directions, with real resets or real silence.
 * Clients reach each member through one more proxy in front of its client
 * port, so "partition from clients" and dropping one client's connection
 * are real too.
 */
import { TcpProxy } from './tcp-proxy';

/** A member's real ports. */
export interface MemberPorts {
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
}

/**
 * How a cut link fails: 'reset' (default) resets open connections and
 * refuses new ones, so peers notice at once, as when a host is down;
 * 'blackhole' swallows bytes and leaves new connections hanging, so peers
 * notice only through their timeouts, as when packets are dropped.
 */
export type PartitionMode = 'reset' | 'blackhole';

interface PeerLink {
  quorum: TcpProxy;
  election: TcpProxy;
}

const key = (from: number, to: number) => `${from}>${to}`;

/**
 * How long a peer proxy retries a refused connect (see TcpProxyOptions):
 * long enough for a just-elected leader to open its quorum port, so a
 * follower that asks first is not reset into another election round.
 */
const PEER_RETRY_REFUSED_MS = 2000;

/** The proxies of one cluster: a client proxy per member and a quorum + election proxy per directed pair. */
export class EnsembleNetwork {
  private readonly links = new Map<string, PeerLink>();
  private readonly clientProxies = new Map<number, TcpProxy>();
  /** Directed links currently cut. */
  private readonly cutLinks = new Set<string>();
  /** Members currently cut off from clients. */
  private readonly cutClients = new Set<number>();

  private constructor(private readonly members: MemberPorts[]) {}

  /** Starts a client proxy per member and, for an ensemble, a quorum and an election proxy per directed pair. */
  static async start(members: MemberPorts[]): Promise<EnsembleNetwork> {
    const net = new EnsembleNetwork(members);
    try {
      for (const m of members) net.clientProxies.set(m.id, await TcpProxy.start(m.clientPort));
      for (const from of members) {
        for (const to of members) {
          if (from.id === to.id) continue;
          const o = { retryRefusedMs: PEER_RETRY_REFUSED_MS };
          net.links.set(key(from.id, to.id), { quorum: await TcpProxy.start(to.quorumPort, '127.0.0.1', o), election: await TcpProxy.start(to.electionPort, '127.0.0.1', o) });
        }
      }
    } catch (e) {
      await net.close();
      throw e;
    }
    return net;
  }

  /** The quorum and election ports `from` must use to reach `to` (its own real ports when from === to). */
  peerPorts(from: number, to: number): { quorumPort: number; electionPort: number } {
    if (from === to) {
      const m = this.member(to);
      return { quorumPort: m.quorumPort, electionPort: m.electionPort };
    }
    const link = this.links.get(key(from, to))!;
    return { quorumPort: link.quorum.port, electionPort: link.election.port };
  }

  /** The proxy in front of a member's client port. */
  clientProxy(id: number): TcpProxy {
    const p = this.clientProxies.get(id);
    if (!p) throw new Error(`no member ${id}`);
    return p;
  }

  /** The member whose client proxy listens on `port`, if any. */
  memberByClientProxyPort(port: number): number | undefined {
    for (const [id, p] of this.clientProxies) if (p.port === port) return id;
    return undefined;
  }

  /** Cuts every link between a member of `group` and a member outside it (both directions). */
  partition(group: number[], mode: PartitionMode = 'reset'): void {
    for (const id of group) this.member(id);
    const inside = new Set(group);
    for (const a of this.members) {
      for (const b of this.members) {
        if (a.id !== b.id && inside.has(a.id) !== inside.has(b.id)) this.cutLink(a.id, b.id, mode);
      }
    }
  }

  /** Cuts a member off from every client: open connections fail and new ones are refused (or hang, for 'blackhole'). */
  isolateFromClients(id: number, mode: PartitionMode = 'reset'): void {
    const p = this.clientProxy(id);
    this.cutClients.add(id);
    block(p, mode);
  }

  /** True when the link from `from` to `to` is cut. */
  isCut(from: number, to: number): boolean {
    return this.cutLinks.has(key(from, to));
  }

  /** Undoes every partition: the links and client proxies forward again (black-holed connections are reset). */
  heal(): void {
    for (const k of this.cutLinks) {
      const link = this.links.get(k)!;
      link.quorum.allow();
      link.election.allow();
    }
    this.cutLinks.clear();
    for (const id of this.cutClients) this.clientProxy(id).allow();
    this.cutClients.clear();
  }

  /** Stops every proxy. */
  async close(): Promise<void> {
    const all = [...this.clientProxies.values(), ...[...this.links.values()].flatMap((l) => [l.quorum, l.election])];
    await Promise.all(all.map((p) => p.close()));
  }

  private cutLink(from: number, to: number, mode: PartitionMode): void {
    const link = this.links.get(key(from, to))!;
    this.cutLinks.add(key(from, to));
    block(link.quorum, mode);
    block(link.election, mode);
  }

  private member(id: number): MemberPorts {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id} (members: ${this.members.map((x) => x.id).join(', ')})`);
    return m;
  }
}

function block(p: TcpProxy, mode: PartitionMode): void {
  if (mode === 'blackhole') {
    p.blackhole();
  } else {
    p.refuse();
    p.cut();
  }
}
