/**
 * Issue 12, "the package installs and imports": `npm pack` (which runs
 * prepare, the build) gives a tarball that installs into an empty project
 * WITHOUT the network and works there from CommonJS, from ESM, from
 * TypeScript under both `node10` and `node16` module resolution, and through
 * its bins (`npx zk-server`, `npx zk-cli`), with no devDependency installed.
 *
 * Offline install: the runtime dependencies are packed from this checkout's
 * node_modules (what `npm ci` installed) and installed from those tarballs
 * next to ours, with a private npm cache, so nothing comes from a registry or
 * from the user's cache.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies?: Record<string, string> };
/** The recipes entry is checked once the recipes exist in the tree (they are built from recipes/index.ts). */
const HAS_RECIPES = fs.existsSync(path.join(ROOT, 'recipes', 'index.ts'));

jest.setTimeout(300_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...npmEnv, ...opts.env }, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let work: string;
let app: string;
let npmEnv: NodeJS.ProcessEnv = {};
let tarball: string;
let packedFiles: string[] = [];
let daemonPidFile: string | null = null;

/** The runtime dependency closure of `name` as installed in this checkout: package folders, nested first. */
function runtimeDependencyDirs(deps: Record<string, string>, from: string, seen = new Map<string, string>()): Map<string, string> {
  for (const dep of Object.keys(deps)) {
    if (seen.has(dep)) continue;
    // Node's lookup: the requiring package's own node_modules, then upwards.
    let dir = from;
    let found: string | null = null;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', dep);
      if (fs.existsSync(path.join(candidate, 'package.json'))) {
        found = candidate;
        break;
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    if (found === null) throw new Error(`runtime dependency ${dep} is not installed in ${ROOT}/node_modules: run npm ci`);
    seen.set(dep, found);
    const pj = JSON.parse(fs.readFileSync(path.join(found, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    runtimeDependencyDirs(pj.dependencies ?? {}, found, seen);
  }
  return seen;
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-pack-'));
  app = path.join(work, 'app');
  fs.mkdirSync(app);
  // A private cache and no registry traffic: everything must come from the tarballs.
  npmEnv = {
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_registry: 'http://127.0.0.1:9/',
  };
});

afterAll(() => {
  // Only the daemon this test started, by the pid it wrote.
  if (daemonPidFile !== null && fs.existsSync(daemonPidFile)) {
    const pid = Number(fs.readFileSync(daemonPidFile, 'utf8').trim());
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('package-lock.json matches package.json: npm install rewrites nothing', async () => {
    // A copy of the two files only, so the check cannot touch the checkout. With a lock that does
    // not satisfy package.json, npm would have to resolve from the (unreachable) registry and fail,
    // or it would write a different lock.
    const dir = path.join(work, 'lock-check');
    fs.mkdirSync(dir);
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    ok(await run('npm', ['install', '--package-lock-only', '--ignore-scripts'], { cwd: dir }), 'npm install --package-lock-only');
    expect(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  });

  it('npm pack builds it and ships the built code, bins, conf and docs only', async () => {
    const r = ok(await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeoutMs: 240_000 }), 'npm pack');
    const info = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info[0].filename);
    expect(fs.existsSync(tarball)).toBe(true);
    packedFiles = info[0].files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/server/index.js',
      'dist/src/server/index.d.ts',
      'dist/src/testing/index.js',
      'dist/src/testing/index.d.ts',
      'dist/src/cli/zk-server.js',
      'dist/src/cli/zk-cli.js',
      'bin/zk-server',
      'bin/zk-cli',
      'bin/compiled-or-source.js',
      'conf/zoo_sample.cfg',
    ]) {
      expect(packedFiles).toContain(f);
    }
    if (HAS_RECIPES) expect(packedFiles).toContain('dist/recipes/index.js');
    // No sources, tests, benches, fixtures, build state or dev launchers.
    const unwanted = packedFiles.filter(
      (f) =>
        /^(src|test|bench|codegen|recipes|data|node_modules)\//.test(f) ||
        /^dist\/(test|bench|codegen|bin)\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        /tsbuildinfo|build-stamp|\.map$|\.tgz$/.test(f) ||
        f === 'bin/zk-dev-server' ||
        f === 'bin/jute-ts-codegen',
    );
    expect(unwanted).toEqual([]);
  });

  it('installs into an empty project without the network and without devDependencies', async () => {
    expect(tarball).toBeDefined();
    const deps = runtimeDependencyDirs(PKG.dependencies ?? {}, ROOT);
    const depsDir = path.join(work, 'deps');
    fs.mkdirSync(depsDir);
    const packed = ok(
      await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', depsDir, ...deps.values()], { cwd: work }),
      'npm pack of the runtime dependencies',
    );
    const depTarballs = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string }>).map((d) => path.join(depsDir, d.filename));
    expect(depTarballs).toHaveLength(deps.size);

    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true }, null, 2));
    ok(await run('npm', ['install', '--offline', tarball, ...depTarballs], { cwd: app, timeoutMs: 240_000 }), 'npm install --offline');

    const installed = path.join(app, 'node_modules', PKG.name);
    expect(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version).toBe(PKG.version);
    expect(fs.existsSync(path.join(installed, 'dist', 'src', 'index.js'))).toBe(true);
    // Nothing from the development toolchain came along, so the bins can only run the compiled code.
    for (const dev of ['ts-node', 'typescript', 'jest']) expect(fs.existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules', '.bin', 'zk-server'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'node_modules', '.bin', 'zk-cli'))).toBe(true);
  });

  /** The script both module systems run: an embedded server, a client round trip, the recipes' classes. */
  const roundTrip = (label: string) => `
    const srv = await ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1' });
    const zk = new ZooKeeper(srv.connectString);
    try {
      await zk.connected();
      await zk.create('/${label}', Buffer.from('hello from ${label}'));
      const { data } = await zk.getData('/${label}');
      const recipeKinds = ${HAS_RECIPES ? `[typeof recipes.Mutex, typeof recipes.LeaderLatch].join(',')` : `'absent'`};
      console.log(JSON.stringify({ data: String(data), recipes: recipeKinds }));
    } finally {
      await zk.close();
      await srv.close();
    }
  `;

  it('works from CommonJS: require of the package, /server and /recipes', async () => {
    fs.writeFileSync(
      path.join(app, 'check.cjs'),
      `const { ZooKeeper } = require('zookeeper-ts');
       const { ZooKeeperServer } = require('zookeeper-ts/server');
       ${HAS_RECIPES ? "const recipes = require('zookeeper-ts/recipes');" : ''}
       (async () => { ${roundTrip('cjs')} })().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const r = ok(await run(process.execPath, ['check.cjs'], { cwd: app, timeoutMs: 60_000 }), 'the CommonJS check');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ data: 'hello from cjs', recipes: HAS_RECIPES ? 'function,function' : 'absent' });
  });

  it('works from ESM: named imports of the package, /server and /recipes', async () => {
    fs.writeFileSync(
      path.join(app, 'check.mjs'),
      `import { ZooKeeper } from 'zookeeper-ts';
       import { ZooKeeperServer } from 'zookeeper-ts/server';
       ${HAS_RECIPES ? "import { Mutex, LeaderLatch } from 'zookeeper-ts/recipes'; const recipes = { Mutex, LeaderLatch };" : ''}
       import { TestingServer, TestingCluster, StateLog } from 'zookeeper-ts/testing';
       if ([TestingServer, TestingCluster, StateLog].some((c) => typeof c !== 'function')) throw new Error('zookeeper-ts/testing: missing exports');
       ${roundTrip('esm')}`,
    );
    const r = ok(await run(process.execPath, ['check.mjs'], { cwd: app, timeoutMs: 60_000 }), 'the ESM check');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ data: 'hello from esm', recipes: HAS_RECIPES ? 'function,function' : 'absent' });
  });

  it('zookeeper-ts/testing works installed: a TestingServer child runs the installed bin (no ts-node), kill -9 and start, expiry', async () => {
    fs.writeFileSync(
      path.join(app, 'check-testing.cjs'),
      `const { ZooKeeper } = require('zookeeper-ts');
       const { TestingServer, StateLog } = require('zookeeper-ts/testing');
       const fs = require('fs');
       (async () => {
         const server = await TestingServer.start();
         const cmd = fs.readFileSync('/proc/' + server.pid() + '/cmdline', 'utf8').split('\\0').join(' ');
         const zk = new ZooKeeper(server.connectString);
         try {
           await zk.connected();
           const states = new StateLog(zk);
           await server.kill();
           await states.waitFor('Disconnected', 10000);
           await server.start();
           await states.waitFor('SyncConnected', 20000);
           await server.expireSession(zk);
           console.log(JSON.stringify({ cmd, states: states.names() }));
         } finally {
           await zk.close();
           await server.close();
         }
       })().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const r = ok(await run(process.execPath, ['check-testing.cjs'], { cwd: app, timeoutMs: 90_000 }), 'the testing kit check');
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cmd: string; states: string[] };
    // kill -9 and start: Disconnected, SyncConnected. Expiry the KillSession way: a twin attaches to the same
    // session (the server drops the owner's older connection, which may reconnect a few times meanwhile), then
    // closes it: the owner ends Expired, and nothing follows.
    expect(got.states.slice(0, 2)).toEqual(['Disconnected', 'SyncConnected']);
    expect(got.states[got.states.length - 1]).toBe('Expired');
    const between = got.states.slice(2, -1);
    expect(between.every((s, i) => s === (i % 2 === 0 ? 'Disconnected' : 'SyncConnected'))).toBe(true);
    expect(got.cmd).toContain(path.join(app, 'node_modules', PKG.name, 'bin', 'zk-server'));
    expect(got.cmd).not.toMatch(/ts-node|transpile-cache/);
  });

  it('type-checks from TypeScript under node10 and node16 module resolution (CJS and ESM files)', async () => {
    const body = `
      import { ZooKeeper, CreateMode } from 'zookeeper-ts';
      import { ZooKeeperServer } from 'zookeeper-ts/server';
      ${HAS_RECIPES ? "import { Mutex, LeaderLatch } from 'zookeeper-ts/recipes';" : ''}
      import { TestingServer, type TestingCluster } from 'zookeeper-ts/testing';
      export async function withTestingServer(): Promise<string> {
        const server: TestingServer = await TestingServer.start({ tickTime: 200 });
        const connect: string = server.connectString;
        await server.close();
        return connect;
      }
      export type Leader = Awaited<ReturnType<TestingCluster['waitForLeader']>>;
      export async function roundTrip(): Promise<string> {
        const srv: ZooKeeperServer = await ZooKeeperServer.start({ clientPort: 0 });
        const zk = new ZooKeeper(srv.connectString);
        await zk.connected();
        const created: string = await zk.create('/t', Buffer.from('x'), { mode: CreateMode.PERSISTENT });
        await zk.close();
        await srv.close();
        return created;
      }
      ${HAS_RECIPES ? 'export const recipeClasses: Array<Function> = [Mutex, LeaderLatch];' : ''}
    `;
    fs.writeFileSync(path.join(app, 'consumer.ts'), body);
    fs.writeFileSync(path.join(app, 'consumer-esm.mts'), body);
    // The negative control: proves the resolution is really checked.
    fs.writeFileSync(path.join(app, 'missing.ts'), `import { Nothing } from 'zookeeper-ts/no-such-entry';\nexport const n = Nothing;\n`);
    const common = {
      target: 'ES2022',
      lib: ['ES2022'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    };
    const configs: Record<string, object> = {
      // node10 also compiles the negative control, which must fail alone.
      'tsconfig.node10.json': { compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10' }, files: ['consumer.ts', 'missing.ts'] },
      'tsconfig.node16.json': { compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.ts', 'consumer-esm.mts'] },
    };
    for (const [name, cfg] of Object.entries(configs)) fs.writeFileSync(path.join(app, name), JSON.stringify(cfg, null, 2));

    // In parallel: each one loads @types/node and checks our declarations too (skipLibCheck off).
    const [node10, node16] = await Promise.all(Object.keys(configs).map((p) => run(process.execPath, [TSC, '-p', p], { cwd: app })));
    ok(node16, 'tsc (node16)');
    const errors = node10.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toEqual([expect.stringMatching(/^missing\.ts\(1,\d+\): error TS2307: Cannot find module 'zookeeper-ts\/no-such-entry'/)]);
  });

  it('runs npx zk-server (start, status, stop) and npx zk-cli against it, from conf/zoo_sample.cfg', async () => {
    const port = await freePort();
    const dataDir = path.join(work, 'zkdata');
    // The README's way: copy the sample to conf/zoo.cfg; only the data dir and port change for a test.
    const sample = fs.readFileSync(path.join(app, 'node_modules', PKG.name, 'conf', 'zoo_sample.cfg'), 'utf8');
    const cfg = sample
      .replace(/^dataDir=.*$/m, `dataDir=${dataDir}`)
      .replace(/^clientPort=.*$/m, `clientPort=${port}`)
      .replace(/^#clientPortAddress=.*$/m, 'clientPortAddress=127.0.0.1');
    expect(cfg).toContain(`dataDir=${dataDir}`);
    expect(cfg).toContain(`clientPort=${port}`);
    fs.mkdirSync(path.join(app, 'conf'));
    fs.writeFileSync(path.join(app, 'conf', 'zoo.cfg'), cfg);
    daemonPidFile = path.join(dataDir, 'zookeeper_server.pid');
    const env = { ZOO_START_TIMEOUT: '90', ZOO_STOP_TIMEOUT: '60' };

    const started = await run('npx', ['zk-server', 'start', 'conf/zoo.cfg'], { cwd: app, env, timeoutMs: 150_000 });
    expect({ code: started.code, out: started.stdout }).toEqual({ code: 0, out: expect.stringContaining('STARTED') });
    const pid = Number(fs.readFileSync(daemonPidFile, 'utf8').trim());
    expect(alive(pid)).toBe(true);

    const status = ok(await run('npx', ['zk-server', 'status', 'conf/zoo.cfg'], { cwd: app, env }), 'zk-server status');
    expect(status.stdout).toContain('Mode: standalone');

    const server = `127.0.0.1:${port}`;
    ok(await run('npx', ['zk-cli', '-server', server, 'create', '/from-cli', 'hello'], { cwd: app, timeoutMs: 60_000 }), 'zk-cli create');
    const got = ok(await run('npx', ['zk-cli', '-server', server, 'get', '/from-cli'], { cwd: app, timeoutMs: 60_000 }), 'zk-cli get');
    expect(got.stdout).toContain('hello');

    const stopped = ok(await run('npx', ['zk-server', 'stop', 'conf/zoo.cfg'], { cwd: app, env, timeoutMs: 90_000 }), 'zk-server stop');
    expect(stopped.stdout).toContain('STOPPED');
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(daemonPidFile)).toBe(false);
    // The snapshot and log are Apache's layout, in the dataDir the sample named.
    expect(fs.readdirSync(path.join(dataDir, 'version-2')).some((f) => f.startsWith('log.'))).toBe(true);
  });
});
