// The error machinery and formats' table live in errors/; this keeps `../errors.js` imports short.
export * from './errors/index.js';
