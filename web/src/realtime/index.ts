/** The browser's real-time client: one channel, live and complete (see live-feed.ts). */
export * from './live-feed.js';
export * from './positions.js';
export * from './catch-up-http.js';
