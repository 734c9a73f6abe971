import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// `@syncstate-ts/source` resolves sibling packages to their TypeScript sources,
// so tests run on the code as written, with no build first.
const conditions = ['@syncstate-ts/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./scripts/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
