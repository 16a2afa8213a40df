// Types of the CommonJS entry: the same API as the ES module.
export * from '../dist/ts/index.js';
