#!/usr/bin/env node
// test-rig's npm install script. npm 11 runs it only when the user approved
// test-rig's install scripts (npm install-scripts approve test-rig); the
// prebuilt addon loads without it. It builds from source with node-gyp
// (binding.gyp) when asked to (npm install/rebuild --build-from-source) or
// when no prebuild fits this platform; otherwise it does nothing.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fromSource =
  process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');

// `npm install` inside a checkout of test-rig itself: contributors build with
// `npm run build:native` (cmake-js) or `npm run build:gyp`; do not wipe build/.
const isRootProject = process.env.INIT_CWD && path.resolve(process.env.INIT_CWD) === root;
if (isRootProject && !fromSource) process.exit(0);

if (!fromSource) {
  try {
    require('node-gyp-build').resolve(root); // finds build/Release or prebuilds/<platform>-<arch> without loading it
    process.exit(0);
  } catch {
    console.error(
      `test-rig: no prebuilt addon for ${process.platform}-${process.arch}: building it from source with node-gyp`,
    );
  }
}

const env = { ...process.env };
if (!env.npm_config_nodedir) {
  // use this Node's own headers when it ships them, instead of downloading them
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_version.h'))) env.npm_config_nodedir = prefix;
}
const r = spawnSync('node-gyp', ['rebuild'], { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'test-rig: building the native addon failed' +
      (r.error ? ` (${r.error.message})` : '') +
      '. It needs node-gyp (bundled with npm), a C++ compiler, make, and the headers of a Python 3.9+ ' +
      '(Debian/Ubuntu: apt-get install g++ make python3-dev; pick the Python with TEST_RIG_PYTHON). ' +
      'See docs/troubleshooting.md.',
  );
  process.exit(r.status || 1);
}
