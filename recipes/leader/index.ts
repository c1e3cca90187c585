/** Leader recipes: LeaderLatch and LeaderElection. */
export * from './leader-latch';
export * from './leader-election';
