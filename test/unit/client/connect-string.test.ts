import { parseConnectString, toClientPath, toServerPath } from '../../../src/client/connect-string';
import { BadArgumentsError } from '../../../src/client/errors';
import { HostProvider } from '../../../src/client/host-provider';
import { Fifo } from '../../../src/client/fifo';

describe('parseConnectString', () => {
  it('parses hosts, default port and chroot', () => {
    expect(parseConnectString('127.0.0.1:2181,127.0.0.1:2182/app')).toEqual({
      hosts: [
        { host: '127.0.0.1', port: 2181 },
        { host: '127.0.0.1', port: 2182 },
      ],
      chroot: '/app',
    });
    expect(parseConnectString('zk1')).toEqual({ hosts: [{ host: 'zk1', port: 2181 }], chroot: '' });
    expect(parseConnectString('a:1/').chroot).toBe('');
    expect(parseConnectString(' a:1 , b:2 ').hosts.map((h) => h.host)).toEqual(['a', 'b']);
  });

  it('parses bracketed and bare IPv6', () => {
    expect(parseConnectString('[::1]:2281,[fe80::1]').hosts).toEqual([
      { host: '::1', port: 2281 },
      { host: 'fe80::1', port: 2181 },
    ]);
    expect(parseConnectString('::1').hosts).toEqual([{ host: '::1', port: 2181 }]);
  });

  it.each(['', '   ', ',', 'a:x', 'a:0', 'a:70000', '[::1', 'a:1/app/', 'a:1/app//b', 'a:1/\ud83d\ude00', ':5'])(
    'refuses %j with BadArgumentsError',
    (s) => {
      expect(() => parseConnectString(s)).toThrow(BadArgumentsError);
    },
  );

  it('maps paths through the chroot both ways', () => {
    expect(toServerPath('/app', '/')).toBe('/app');
    expect(toServerPath('/app', '/x/y')).toBe('/app/x/y');
    expect(toServerPath('', '/x')).toBe('/x');
    expect(toClientPath('/app', '/app')).toBe('/');
    expect(toClientPath('/app', '/app/x')).toBe('/x');
    // Not under the chroot (getConfig's /zookeeper/config) or only a name prefix: unchanged.
    expect(toClientPath('/app', '/zookeeper/config')).toBe('/zookeeper/config');
    expect(toClientPath('/app', '/apple')).toBe('/apple');
  });
});

describe('HostProvider', () => {
  const hosts = [1, 2, 3].map((i) => ({ host: `h${i}`, port: i }));

  it('shuffles once and goes round-robin', () => {
    let seed = 0.3;
    const hp = new HostProvider(hosts, { random: () => (seed = (seed * 7.13) % 1) });
    expect([...hp.hosts].sort((a, b) => a.port - b.port)).toEqual(hosts);
    const order = [hp.next(), hp.next(), hp.next(), hp.next()].map((n) => n.host.port);
    expect(order[3]).toBe(order[0]);
    expect(new Set(order.slice(0, 3)).size).toBe(3);
  });

  it('keeps the order when shuffle is off', () => {
    const hp = new HostProvider(hosts, { shuffle: false });
    expect([hp.next(), hp.next(), hp.next()].map((n) => n.host.host)).toEqual(['h1', 'h2', 'h3']);
  });

  it('backs off only after a whole failed pass, growing to the cap', () => {
    const hp = new HostProvider(hosts, { shuffle: false, random: () => 1, backoffBase: 100, backoffMax: 400 });
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      delays.push(hp.next().delay);
      hp.onFailure();
    }
    expect(delays).toEqual([0, 0, 0, 100, 0, 0, 200, 0, 0, 400, 0, 0]);
    expect(hp.failedPasses).toBe(4);
    hp.onConnected();
    expect(hp.next().delay).toBe(0);
    expect(hp.failedPasses).toBe(0);
  });
});

describe('Fifo', () => {
  it('keeps order across growth and wrap-around', () => {
    const f = new Fifo<number>(2);
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < (round % 7) + 1; i++) f.push(next++);
      for (let i = 0; i < (round % 5); i++) {
        const v = f.shift();
        if (v !== undefined) seen.push(v);
      }
    }
    seen.push(...f.drain());
    expect(seen).toEqual([...Array(next).keys()]);
    expect(f.length).toBe(0);
    expect(f.shift()).toBeUndefined();
  });
});
