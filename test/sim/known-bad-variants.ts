/**
 * Known-bad variants of the quorum machines, patched into their prototypes
 * for one run, so that the simulations can show they catch them
 * (zab-sim.test.ts, ensemble-sim.test.ts). Each patch returns its undo.
 * They patch private methods by name: if one is renamed, `wrap` says so.
 */
import { ZabLearner } from '../../src/server/quorum/zab-learner';

export type Proto = Record<string, (...args: unknown[]) => unknown>;

export function wrap(proto: Proto, name: string, fn: (orig: (...a: unknown[]) => unknown) => (this: unknown, ...a: unknown[]) => unknown): () => void {
  const orig = proto[name];
  if (typeof orig !== 'function') throw new Error(`no method ${name} to patch: update this test`);
  proto[name] = fn(orig);
  return () => void (proto[name] = orig);
}

/** ZOOKEEPER-4643/4646: a learner writes currentEpoch and ACKs NEWLEADER before the synced txns are logged. */
export function ackNewLeaderBeforeLogging(): () => void {
  return wrap(ZabLearner.prototype as unknown as Proto, 'onNewLeader', (orig) => function (this: unknown, ...a: unknown[]) {
    const self = this as { effects: { kind: string }[] };
    const before = self.effects.length;
    orig.apply(this, a);
    const added = self.effects.splice(before);
    self.effects.push(...added.filter((e) => e.kind !== 'log'), ...added.filter((e) => e.kind === 'log'));
  });
}
