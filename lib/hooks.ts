/**
 * Kept so existing importers go on working: hooks live in lib/hooks/ (see
 * lib/hooks/mod.ts); import from there.
 *
 * @module
 */

export * from "./hooks/mod.ts";
