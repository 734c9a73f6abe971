// Builds the page from the workspace's TypeScript sources (the
// `@syncstate-ts/source` condition), and fails the build if anything on the
// page's import path reaches for a Node module: the browser path must not.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

function noNodeModules(): Plugin {
  const builtins = new Set(builtinModules);
  return {
    name: 'syncstate-no-node-modules',
    enforce: 'pre',
    resolveId(id, importer) {
      if (id.startsWith('node:') || builtins.has(id)) {
        this.error(`${importer ?? 'the page'} imports ${id}: code on the browser path must not use Node modules`);
      }
      return null;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { conditions: ['@syncstate-ts/source', ...defaultClientConditions] },
  plugins: [noNodeModules()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  logLevel: 'warn',
});
