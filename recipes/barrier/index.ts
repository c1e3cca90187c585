/** Barriers: a single barrier (set / remove / wait) and a double barrier (enter / leave). */
export { Barrier } from './barrier';
export { DoubleBarrier } from './double-barrier';
