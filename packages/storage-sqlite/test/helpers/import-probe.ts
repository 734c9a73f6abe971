// Run as its own process (drivers.test.ts): what importing the package
// loads and prints, and which binding a storage then opens with.
//   npx tsx --conditions=@syncstate-ts/source import-probe.ts <folder>
// Prints one JSON line.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const folder = process.argv[2]!;
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
const require = createRequire(import.meta.url);
/** SQLite bindings loaded so far: node:sqlite (its internal binding) and better-sqlite3 (in the require cache). */
const bindings = (): string[] => [
  ...((process as unknown as { moduleLoadList: string[] }).moduleLoadList.some((m) => /\bsqlite\b/.test(m)) ? ['node:sqlite'] : []),
  ...(Object.keys(require.cache).some((k) => k.includes('better-sqlite3')) ? ['better-sqlite3'] : []),
];

const before = bindings();
const { openSqliteStorage } = await import('@syncstate-ts/storage-sqlite');
const { kinds } = await import('@syncstate-ts/core');
// Warnings are emitted on the next tick.
await new Promise((resolve) => setImmediate(resolve));
const afterImport = { loaded: bindings(), warnings: [...warnings] };
const storage = openSqliteStorage({ path: join(folder, 'maps.db'), key: kinds.string, value: kinds.string });
await storage.close();
await new Promise((resolve) => setImmediate(resolve));
process.stdout.write(`${JSON.stringify({ before, afterImport, driver: storage.driver, afterOpen: { loaded: bindings(), warnings } })}\n`);
