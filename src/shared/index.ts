export * from './ids.js';
export * from './clock.js';
export * from './errors.js';
export * from './backoff.js';
