import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Unit tests import @flf2v/* straight from src/ (no build needed); end-to-end tests in test/ spawn the
// built CLI, which is why the root `test` script builds first.
const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
// Exact matches: '@flf2v/core' must not swallow '@flf2v/core/rules'.
const alias = [
  { find: /^@flf2v\/core$/, replacement: src('core/src/index.ts') },
  { find: /^@flf2v\/core\/rules$/, replacement: src('core/src/rules.ts') },
  { find: /^@flf2v\/simulator$/, replacement: src('simulator/src/index.ts') },
  { find: /^@flf2v\/reporter$/, replacement: src('reporter/src/index.ts') },
  { find: /^@flf2v\/batch$/, replacement: src('batch/src/index.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    // Tests never write into the user's cache (~/.cache/flf2v): prepared frames and upload URLs go here.
    env: { FLF2V_CACHE_DIR: join(tmpdir(), 'flf2v-vitest-cache') },
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
