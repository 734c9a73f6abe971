// @syncstate-ts/cli: the `syncstate` command (bin), and what a hooks module or
// an embedding program may want from it.

export { run } from './main.js';
export { ExitCode, CliError } from './exit-codes.js';
export { kvEvent, kvHook, type KvEvent } from './kv.js';
export { defineHooks, type HooksApi, type HooksDefinition, type HooksModuleExport } from './hooks-module.js';
export { startServe, type ServeOptions } from './serve.js';
