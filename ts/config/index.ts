export * from './schema.js';
export * from './load.js';
export * from './settings.js';
export * from './password.js';
export * from './init.js';
