'use strict';
/**
 * How the launchers in bin/ find their code.
 *
 * - An installed package (npm install of the tarball or a git url) has no
 *   TypeScript sources: the compiled JavaScript in dist/ is run, nothing else
 *   (no ts-node, no devDependencies at run time).
 * - A git checkout has both. dist/ is run when `npm run build` (also run by
 *   `npm install`'s prepare, `npm start` and `npm test`) finished after the
 *   last edit of any source; otherwise the sources are run through ts-node
 *   (a devDependency, present in a checkout), so an edited tree never runs a
 *   stale build. `npm run build` leaves dist/.build-stamp, dated when the
 *   build started, for that check. A .ts loader already registered (e.g.
 *   `node -r bin/transpile-cache-register.js bin/zk-server ...`) is used
 *   instead of ts-node.
 *
 *   node bin/compiled-or-source.js --build   # tsc -p tsconfig.build.json, then the stamp
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const STAMP = path.join(root, 'dist', '.build-stamp');
/** What the build compiles (tsconfig.build.json), and the configs that shape it. */
const SOURCE_DIRS = ['src', 'recipes'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time (ms) of the build's inputs. */
function newestSourceTime() {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) visit(path.join(root, d));
  for (const f of CONFIG_FILES) {
    try {
      newest = Math.max(newest, fs.statSync(path.join(root, f)).mtimeMs);
    } catch {
      // an installed package has no tsconfig
    }
  }
  return newest;
}

/** True when dist/ was built after the last change to any source. */
function buildIsFresh() {
  let stamp;
  try {
    stamp = fs.statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  return stamp >= newestSourceTime();
}

/**
 * Loads a module given by its path without extension relative to the package
 * root, e.g. load('src/cli/zk-server'): dist/src/cli/zk-server.js when that is
 * the code to run (see above), else the .ts source through ts-node.
 */
function load(modulePath) {
  const built = path.join(root, 'dist', `${modulePath}.js`);
  const source = path.join(root, `${modulePath}.ts`);
  if (!fs.existsSync(source)) {
    if (!fs.existsSync(built)) {
      throw new Error(`zookeeper-ts is not built: ${built} is missing (reinstall the package, or run npm run build in its folder)`);
    }
    return require(built);
  }
  if (fs.existsSync(built) && buildIsFresh()) return require(built);
  // A .ts loader preloaded with -r (bin/transpile-cache-register.js, as zookeeper-ts/testing
  // does from the sources) is used as it is: no ts-node start-up.
  if (require.extensions['.ts']) return require(source);
  let tsNode;
  try {
    tsNode = require('ts-node');
  } catch {
    throw new Error(`${built} is missing or older than the sources, and ts-node is not installed: run npm install, or npm run build`);
  }
  tsNode.register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
  return require(source);
}

/** `npm run build`: compiles src and recipes into dist, then dates the stamp to the build's start. */
function build() {
  const { spawnSync } = require('child_process');
  const started = new Date();
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    // tsc still emitted what it could; without a stamp the launchers run the sources instead.
    fs.rmSync(STAMP, { force: true });
    return r.status ?? 1;
  }
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, `built ${started.toISOString()}\n`);
  // A source saved while tsc ran is newer than the stamp, so it is not mistaken for built.
  fs.utimesSync(STAMP, started, started);
  return 0;
}

module.exports = { load, build, buildIsFresh };

if (require.main === module) {
  if (process.argv[2] === '--build') process.exit(build());
  process.stderr.write('usage: node bin/compiled-or-source.js --build\n');
  process.exit(2);
}
