/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Integration suites start real servers; they must not share ports or CPU bursts.
  maxWorkers: 2,
  // ...and the heaviest suites run last (see the file).
  testSequencer: '<rootDir>/test/setup/sequencer.js',
  testTimeout: 30000,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
};
