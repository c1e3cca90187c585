/**
 * The harness's require hook for running TypeScript in child processes
 * (`node -r ./test/harness/transpile-cache-register.js file.ts`): the
 * checkout's transpile-once cache, bin/transpile-cache-register.js.
 */
'use strict';
require('../../bin/transpile-cache-register.js');
