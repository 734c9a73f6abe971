import { defineConfig } from 'vitest/config';

// One vitest run over every package; `@syncstate/source` resolves sibling
// packages to their TypeScript sources, so tests need no build first.
export default defineConfig({
  resolve: { conditions: ['@syncstate/source'] },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['./scripts/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
