/**
 * Self-test of the harness against Apache ZooKeeper (and our server when
 * present): the servers really start, serve, die and come back, ports and
 * processes are released, and the TCP proxy really cuts and stalls.
 */
import * as fs from 'fs';
import * as net from 'net';
import {
  Cluster,
  TcpProxy,
  digestOf,
  fourLetterWord,
  freePorts,
  startApache,
  startTarget,
  targets,
} from '../harness';
import { pidAlive } from '../harness/child-processes';

describe('harness', () => {
  test('freePorts returns distinct bindable ports', async () => {
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    for (const p of ports) {
      await new Promise<void>((resolve, reject) => {
        const s = net.createServer().once('error', reject).listen(p, '127.0.0.1', () => s.close(() => resolve()));
      });
    }
    const more = await freePorts(8);
    expect(more.filter((p) => ports.includes(p))).toEqual([]);
  });

  test('digestOf matches ZooKeeper DigestAuthenticationProvider', () => {
    // Value computed by Apache's `DigestAuthenticationProvider.generateDigest("super:test")`.
    expect(digestOf('super', 'test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  describe.each(targets())('%s standalone', (kind) => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startTarget(kind, {});
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    test('serves, can be killed and restarted on the same port', async () => {
      const s = cluster.servers[0];
      expect(cluster.connectString).toBe(`127.0.0.1:${s.clientPort}`);
      if (kind === 'apache') {
        expect(await fourLetterWord('127.0.0.1', s.clientPort, 'ruok')).toBe('imok');
        expect(await s.mode()).toBe('standalone');
      }
      const pid = s.pid()!;
      expect(pidAlive(pid)).toBe(true);
      await s.kill();
      expect(s.pid()).toBeUndefined();
      expect(pidAlive(pid)).toBe(false);
      await expect(fourLetterWord('127.0.0.1', s.clientPort, 'ruok', 500)).rejects.toThrow(/ECONNREFUSED/);
      await s.start();
      expect(s.pid()).not.toBe(pid);
      const ready = await new Promise<boolean>((resolve) => {
        const c = net.connect(s.clientPort, '127.0.0.1', () => {
          c.destroy();
          resolve(true);
        }).on('error', () => resolve(false));
      });
      expect(ready).toBe(true);
    });

    test('stop() is a clean SIGTERM shutdown and restart() brings it back', async () => {
      const s = cluster.servers[0];
      await s.stop();
      expect(s.running()).toBe(false);
      await s.restart();
      expect(s.running()).toBe(true);
    });
  });

  describe('apache', () => {
    test('3-node ensemble: one leader, survives losing the leader, stop() cleans up', async () => {
      const c = await startApache({ servers: 3 });
      let stopped = false;
      try {
        const modes = await Promise.all(c.servers.map((s) => s.mode()));
        expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
        expect(modes.filter((m) => m === 'follower')).toHaveLength(2);
        expect(c.connectString.split(',')).toHaveLength(3);
        expect(new Set(c.servers.map((s) => s.clientPort)).size).toBe(3);
        for (const s of c.servers) expect(fs.readFileSync(`${s.dataDir}/myid`, 'utf8').trim()).toBe(String(s.id));

        const leader = (await c.leader())!;
        await leader.kill();
        await c.waitHealthy(30_000);
        const newLeader = (await c.leader())!;
        expect(newLeader.id).not.toBe(leader.id);
        await leader.start();
        expect(await leader.mode()).toBe('follower');

        const pids = c.servers.map((s) => s.pid()!);
        const dir = c.dir;
        await c.stop();
        stopped = true;
        for (const pid of pids) expect(pidAlive(pid)).toBe(false);
        expect(fs.existsSync(dir)).toBe(false);
      } finally {
        if (!stopped) await c.stop();
      }
    }, 120_000);

    test('TLS: the secure port wants a client certificate from the trusted CA', async () => {
      const c = await startApache({ tls: true });
      try {
        const s = c.servers[0];
        const t = c.tls!;
        expect(c.secureConnectString).toBe(`127.0.0.1:${s.secureClientPort}`);
        expect(await fourLetterWord('127.0.0.1', s.secureClientPort!, 'ruok', 5000,
          { ca: t.caCert, cert: t.clientCert, key: t.clientKey })).toBe('imok');
        // No client certificate: the server aborts the handshake (clientAuth=need).
        await expect(fourLetterWord('127.0.0.1', s.secureClientPort!, 'ruok', 5000, { ca: t.caCert }))
          .rejects.toThrow();
        // A client certificate from another CA: refused too.
        await expect(fourLetterWord('127.0.0.1', s.secureClientPort!, 'ruok', 5000,
          { ca: t.caCert, cert: t.untrustedClientCert, key: t.untrustedClientKey })).rejects.toThrow();
        // The client does not trust a server outside its CA.
        await expect(fourLetterWord('127.0.0.1', s.secureClientPort!, 'ruok', 5000,
          { ca: t.untrustedCaCert, cert: t.clientCert, key: t.clientKey })).rejects.toThrow(/certificate/);
      } finally {
        await c.stop();
      }
    }, 60_000);
  });

  describe('TcpProxy', () => {
    let echo: net.Server;
    let echoPort: number;
    beforeAll(async () => {
      [echoPort] = await freePorts(1);
      echo = net.createServer((s) => {
        s.on('error', () => undefined); // the proxy resets connections on purpose
        s.pipe(s);
      });
      await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', () => r()));
    });
    afterAll(async () => {
      await new Promise<void>((r) => echo.close(() => r()));
    });

    function roundTrip(sock: net.Socket, msg: string, timeoutMs = 1000): Promise<string | undefined> {
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          sock.off('data', on);
          resolve(undefined);
        }, timeoutMs);
        const on = (d: Buffer) => {
          clearTimeout(t);
          sock.off('data', on);
          resolve(d.toString());
        };
        sock.on('data', on);
        sock.write(msg);
      });
    }

    test('forwards, pauses, resumes, cuts and refuses', async () => {
      const proxy = await TcpProxy.start(echoPort);
      try {
        const sock = net.connect(proxy.port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        expect(await roundTrip(sock, 'hello')).toBe('hello');
        proxy.pause();
        expect(await roundTrip(sock, 'held', 300)).toBeUndefined();
        const late = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
        proxy.resume();
        expect(await late).toBe('held');
        const closed = new Promise<void>((r) => sock.once('close', () => r()));
        sock.on('error', () => undefined);
        proxy.cut();
        await closed;
        expect(proxy.connections).toBe(0);
        proxy.refuse();
        const refused = net.connect(proxy.port, '127.0.0.1');
        refused.on('error', () => undefined);
        expect(await roundTrip(refused, 'x', 500)).toBeUndefined();
        proxy.allow();
        const again = net.connect(proxy.port, '127.0.0.1');
        await new Promise((r) => again.once('connect', r));
        expect(await roundTrip(again, 'back')).toBe('back');
        again.destroy();
      } finally {
        await proxy.close();
      }
    });
  });
});
