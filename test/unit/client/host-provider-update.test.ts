/**
 * HostProvider.updateServerList, the Java client's StaticHostProvider
 * rebalancing after a reconfig: who moves, where the moving client goes
 * first, and round-robin after every candidate was tried. The random source
 * is scripted (shuffling off) so each branch is taken on purpose; one
 * statistical check shows the expected share of clients moving.
 */
import { HostProvider } from '../../../src/client/host-provider';
import type { HostAddress } from '../../../src/client/connect-string';

const h = (n: number): HostAddress => ({ host: '127.0.0.1', port: 2180 + n });
const names = (hs: readonly HostAddress[]): number[] => hs.map((x) => x.port - 2180);

function provider(hosts: number[], randoms: number[] = []): HostProvider {
  const queue = [...randoms];
  return new HostProvider(hosts.map(h), { shuffle: false, random: () => (queue.length > 0 ? queue.shift()! : 0.5) });
}

describe('HostProvider.updateServerList', () => {
  test('same servers, or fewer with ours kept: stay', () => {
    const p = provider([1, 2, 3]);
    p.next();
    expect(p.updateServerList([h(1), h(2), h(3)], h(1))).toBe(false);
    expect(p.updateServerList([h(1), h(2)], h(1))).toBe(false);
    expect(names(p.hosts)).toEqual([1, 2]);
    // Round-robin goes on after our host.
    expect(names([p.next().host])).toEqual([2]);
  });

  test('our server removed: move, to the kept servers first when no server was added', () => {
    const p = provider([1, 2, 3]);
    p.next();
    expect(p.updateServerList([h(2), h(3)], h(1))).toBe(true);
    const tried = [p.next().host, p.next().host];
    expect(names(tried)).toEqual([2, 3]);
    // Then plain round-robin.
    expect(names([p.next().host])).not.toContain(1);
  });

  test('servers added: a client on a kept server moves with probability 1 - old/new, to an added server', () => {
    // 3 -> 5 servers: moves when random() <= 0.4.
    const moving = provider([1, 2, 3], [0.3, 0.9]);
    moving.next();
    expect(moving.updateServerList([h(1), h(2), h(3), h(4), h(5)], h(1))).toBe(true);
    expect([4, 5]).toContain(moving.next().host.port - 2180);
    const staying = provider([1, 2, 3], [0.5]);
    staying.next();
    expect(staying.updateServerList([h(1), h(2), h(3), h(4), h(5)], h(1))).toBe(false);
  });

  test('servers added and ours removed: always move, to an added server', () => {
    const p = provider([1, 2, 3]);
    p.next();
    expect(p.updateServerList([h(2), h(3), h(4), h(5)], h(1))).toBe(true);
    expect([4, 5]).toContain(p.next().host.port - 2180);
  });

  test('about 1 - old/new of the clients move when servers are added', () => {
    let moved = 0;
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const p = new HostProvider([h(1), h(2), h(3)], { random: rnd });
      const { host } = p.next();
      if (p.updateServerList([h(1), h(2), h(3), h(4), h(5), h(6)], host)) moved++;
    }
    expect(moved / 2000).toBeGreaterThan(0.44);
    expect(moved / 2000).toBeLessThan(0.56);
  });

  test('an empty list is refused', () => {
    expect(() => provider([1]).updateServerList([], null)).toThrow(/may not be empty/);
  });
});
