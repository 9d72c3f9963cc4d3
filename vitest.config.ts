import { defineConfig } from 'vitest/config';

// Two groups, run one after the other: every suite (in parallel), then the ones that
// measure a server under load against its peers and must have the machine to themselves
// (a neighbour's build or benchmark would be counted in their latencies).
const ALONE = ['test/interop/exhaustion.test.ts'];
// test/runtimes/node_modules links the package itself (h2wasm as Deno, Bun and workerd import it).
const EXCLUDE = ['**/node_modules/**'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['test/**/*.test.ts'],
          exclude: [...ALONE, ...EXCLUDE],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'alone', include: ALONE, exclude: EXCLUDE, sequence: { groupOrder: 1 } } },
    ],
  },
});
