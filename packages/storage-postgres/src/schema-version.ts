/**
 * The version of the tables this package creates (syncstate_meta's
 * schema_version). A module of its own so that the package's declaration
 * files do not load pg's (schema.ts imports them): those need TypeScript 5.7.
 */
export const SCHEMA_VERSION = 1;
