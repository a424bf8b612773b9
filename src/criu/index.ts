export * from './version.js';
export * from './features.js';
export * from './run.js';
export * from './stats.js';
export { criuEnv } from './env.js';
export { criuErrorLines } from './log.js';
