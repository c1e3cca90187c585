/**
 * A require hook for running the in-repo TypeScript server as a child
 * process quickly: each .ts file is transpiled once (typescript's
 * transpileModule, no type check, the repo's compiler options) and cached on
 * disk by content hash, so that restarts and later test files start in a
 * fraction of a second instead of paying ts-node's start-up every time.
 * The typescript compiler is loaded only on a cache miss.
 *
 * A checkout-only tool (the published package has no TypeScript sources and
 * does not ship it). Used by test/harness (test/harness/transpile-cache-register.js
 * loads this file) and by zookeeper-ts/testing when it runs from the sources
 * (under ts-jest): preloaded into `bin/zk-server`, it is the .ts loader
 * compiled-or-source.js uses instead of ts-node.
 *
 *   node -r ./bin/transpile-cache-register.js test/harness/run-our-server.ts launch.json
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const cacheDir = path.join(os.tmpdir(), 'zookeeper-ts-transpile-cache');
const repoRoot = path.resolve(__dirname, '..');
let ts = null;
let compilerOptions = null;

function compiler() {
  if (ts === null) {
    ts = require(require.resolve('typescript', { paths: [repoRoot] }));
    const cfgPath = path.join(repoRoot, 'tsconfig.json');
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(cfgPath, ts.sys.readFile).config, ts.sys, repoRoot);
    compilerOptions = { ...parsed.options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, declaration: false };
  }
  return ts;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let js;
  try {
    js = fs.readFileSync(cached, 'utf8');
  } catch {
    const t = compiler();
    js = t.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, js);
    fs.renameSync(tmp, cached);
  }
  module._compile(js, filename);
};
