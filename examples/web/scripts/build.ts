// Builds the page with Vite (vite.config.ts beside this folder) into `outDir`
// (default dist/); resolves with that folder.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const exampleDir = fileURLToPath(new URL('..', import.meta.url));

export async function buildExample(outDir = fileURLToPath(new URL('../dist/', import.meta.url))): Promise<string> {
  await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), build: { outDir, emptyOutDir: true } });
  return outDir;
}
