// Where the repository, the Rust fixture program and its golden files live.
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
export const goldenDir = fileURLToPath(new URL('../../../fixtures/golden/', import.meta.url));
export const fixturesBinary = fileURLToPath(
  new URL('../../../fixtures/target/release/syncstate-fixtures', import.meta.url),
);
