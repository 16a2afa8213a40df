// CommonJS entry point of test-rig (package.json "exports" → "require").
// The package is an ES module; Node ≥ 20.19 can require() it because the
// library has no top-level await. A require() issued from node_modules does not
// print the require(esm) ExperimentalWarning, which is why this file exists.
'use strict';
try {
  module.exports = require('../dist/ts/index.js');
} catch (err) {
  if (err && err.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      `test-rig is an ES module and this Node (${process.version}) cannot require() it: ` +
        'use Node >= 20.19 (without --no-experimental-require-module), or load it with `await import("test-rig")`',
      { cause: err },
    );
  }
  throw err;
}
