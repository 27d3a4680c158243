/** Small helpers every layer may use. */
export { Fifo } from './fifo.js';
export { settledWithin } from './settled-within.js';
export type { Logger, LogLevel } from './logger.js';
export { createStderrLogger, printable, printableLines } from './logger.js';
export { RateLimitedLog } from './rate-limited-log.js';
export type { RateLimitedLogOptions } from './rate-limited-log.js';
