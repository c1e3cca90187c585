// Vitest runs only the testing kit's vitest example here (see examples/testing/); the repository's own suite runs under jest.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['examples/testing/vitest.test.ts'] } });
