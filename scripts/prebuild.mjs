#!/usr/bin/env node
// `npm run build:prebuild`: builds prebuilds/<platform>-<arch>/test-rig.node with
// prebuildify (N-API, stripped) from binding.gyp, the file npm pack ships.
//
// - The build runs in a staging copy (binding.gyp, native/, scripts/), so the
//   cmake-js developer tree in build/ is left alone (node-gyp rebuild would
//   wipe it, and prebuildify moves build/Release/*.node away).
// - Node headers come from the running Node's install prefix (or the
//   npm_config_nodedir the user set), so nothing is downloaded.
// - It skips the build when the prebuild is newer than all its inputs (the
//   packaging test runs it too). --force rebuilds anyway. (Not named
//   "prebuild": npm would run it as the pre-hook of every `npm run build`.)
//
// Python headers: scripts/python-include.cjs (TEST_RIG_PYTHON, else python3).
// The addon uses only the stable ABI (Py_LIMITED_API=3.9), so any 3.9+
// headers give one binary for every CPython 3.9+.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force') || process.env.TEST_RIG_PREBUILD_FORCE === '1';
const name = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name;
const outDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const output = path.join(outDir, `${name}.node`);

const inputs = [
  path.join(root, 'binding.gyp'),
  path.join(root, 'scripts', 'python-include.cjs'),
  ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f)),
];

function upToDate() {
  if (!fs.existsSync(output)) return false;
  const built = fs.statSync(output).mtimeMs;
  return inputs.every((f) => fs.statSync(f).mtimeMs <= built);
}

if (!force && upToDate()) {
  console.log(`prebuild: ${path.relative(root, output)} is up to date`);
  process.exit(0);
}

/** Where Node's headers are: the user's nodedir, else this Node's prefix if it ships include/node. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_version.h')) ? prefix : undefined;
}

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-prebuild-'));
try {
  for (const entry of ['binding.gyp', 'package.json', 'native', 'scripts']) {
    fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
  }
  // binding.gyp resolves node-addon-api from the stage's cwd
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');

  const env = { ...process.env };
  const nodedir = nodeDir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  const args = [
    prebuildify,
    stage,
    '--out',
    root,
    '--napi',
    '--strip',
    '--target',
    process.versions.node, // N-API: any target works; this one matches the local headers
    '--cache',
    path.join(stage, '.devdir'),
  ];
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(
      'prebuild: prebuildify failed; it needs g++, make, python3 and the Python headers (Debian: apt-get install g++ make python3-dev)',
    );
    process.exit(r.status ?? 1);
  }
  if (!fs.existsSync(output)) {
    console.error(`prebuild: prebuildify finished but ${output} is missing`);
    process.exit(1);
  }
  const kb = Math.round(fs.statSync(output).size / 1024);
  console.log(
    `prebuild: ${path.relative(root, output)} (${kb} KB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
