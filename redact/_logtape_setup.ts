/**
 * The two LogTape functions `configureRedactedLogging()` needs, loaded
 * with a dynamic `import()` when it is called (issue 18: importing LogTape at
 * start-up costs every user of `mod.ts` start-up time). A module of its own,
 * with named re-exports, so that a bundler keeps only these two of LogTape.
 *
 * @module
 */

export { configure, getConsoleSink } from "@logtape/logtape";
