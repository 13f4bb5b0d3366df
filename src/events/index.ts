export * from './envelope.js';
export * from './checkpoint.js';
export * from './catalogue.js';
export * from './customer-view.js';
export * from './upcasters.js';
