'use strict';
/**
 * Jest's own order (failed and slow files first), except that the suites
 * running whole ensembles of JVMs and our processes at once (mixed
 * ensembles, rolling replacement) go last. On this 2-core machine they
 * starve whatever runs beside them, and the recipe suites that kill
 * ensemble members under timed leases are the ones that notice; at the end
 * they overlap only each other.
 */
const Sequencer = require('@jest/test-sequencer').default;

const LAST = [/test\/interop\/mixed-ensemble\.test\.ts$/, /test\/interop\/rolling-replacement\.test\.ts$/];

class HeavyLastSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const heavy = (t) => LAST.some((re) => re.test(t.path));
    return [...ordered.filter((t) => !heavy(t)), ...ordered.filter(heavy)];
  }
}

module.exports = HeavyLastSequencer;
