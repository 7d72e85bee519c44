import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Unit tests import @flf2v/* straight from src/ (no build needed); end-to-end tests in test/ spawn the
// built CLI, which is why the root `test` script builds first.
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));
const alias = {
  '@flf2v/core': src('core'),
  '@flf2v/simulator': src('simulator'),
  '@flf2v/reporter': src('reporter'),
  '@flf2v/batch': src('batch'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', include: ['packages/simulator/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'reporter', include: ['packages/reporter/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'batch', include: ['packages/batch/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 180_000 } },
      {
        extends: true,
        test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'], testTimeout: 900_000 },
      },
    ],
  },
});
