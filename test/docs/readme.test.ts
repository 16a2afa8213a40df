// The README's "A first handler" section, executed exactly as printed: its files are
// written from the README's code blocks and its commands run as a user types them, in a
// project that installed test-rig (node_modules/test-rig, its bin, and for the
// TypeScript variant typescript and @types/node). The only substitution is the one the
// README itself offers: TIDB_HOST names the test server instead of TiDB's default address.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface Block {
  lang: string;
  text: string;
}

/** The fenced code blocks of one section (from its heading to the next `## `). */
function blocksOf(section: string): Block[] {
  const start = README.indexOf(`## ${section}\n`);
  assert.ok(start >= 0, `README has no section "${section}"`);
  const next = README.indexOf('\n## ', start + 3);
  const body = README.slice(start, next < 0 ? undefined : next);
  return [...body.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/** The block whose first line names `file` (`# my_handlers.py`, `// run.mjs — …`). */
function fileBlock(blocks: Block[], file: string): Block {
  const b = blocks.find((x) => new RegExp(`^(#|//) ${file.replace('.', '\\.')}\\b`).test(x.text));
  assert.ok(b, `no code block for ${file}`);
  return b;
}

/** The shell command of a bash block (its comment after `#` is the README's, not the shell's concern). */
function commandStarting(blocks: Block[], prefix: string): string {
  for (const b of blocks.filter((x) => x.lang === 'bash')) {
    const line = b.text.split('\n').find((l) => l.startsWith(prefix));
    if (line) return line;
  }
  assert.fail(`no command starting with "${prefix}"`);
}

function sh(command: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd,
      env: cleanEnv({
        TIDB_HOST: testHostPort,
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A process that does not end after its run (an open connection) fails here, not by hanging.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('README examples, run as printed', function () {
  this.timeout(240_000);
  let project: string;
  const blocks = blocksOf('A first handler');

  before(function () {
    if (testServer.password !== '' || testServer.user !== 'root') this.skip(); // the README's server: root, no password
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
    const modules = path.join(project, 'node_modules');
    fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
    fs.mkdirSync(path.join(modules, '@types'));
    fs.symlinkSync(ROOT, path.join(modules, 'test-rig'));
    fs.symlinkSync(path.join(ROOT, 'node_modules/typescript'), path.join(modules, 'typescript'));
    fs.symlinkSync(path.join(ROOT, 'node_modules/@types/node'), path.join(modules, '@types/node'));
    const bin = (name: string, target: string) => {
      fs.writeFileSync(path.join(modules, '.bin', name), `#!/bin/sh\nexec node ${target} "$@"\n`, {
        mode: 0o755,
      });
    };
    bin('test-rig', CLI);
    bin('tsc', path.join(ROOT, 'node_modules/typescript/bin/tsc'));
    fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "readme-project", "private": true }\n');
    fs.writeFileSync(path.join(project, 'my_handlers.py'), fileBlock(blocks, 'my_handlers.py').text);
  });

  after(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('the demo command runs MyPythonHandler after the default chain', async () => {
    const r = await sh(commandStarting(blocks, 'npx test-rig demo'), project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GettingVersion → MyCheck/);
    assert.match(r.stdout, /server says \d+\.\d+/);
    assert.match(r.stdout, /MyCheck → Completed/);
    assert.doesNotMatch(r.stdout + r.stderr, /warning/i);
  });

  it('run.mjs runs the handler and the process ends by itself', async () => {
    const script = fileBlock(blocks, 'run.mjs').text;
    fs.writeFileSync(path.join(project, 'run.mjs'), script);
    const command = /^\/\/ run\.mjs — (.+)$/m.exec(script)?.[1];
    assert.equal(command, 'node run.mjs');
    const r = await sh(command, project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server says \d+\.\d+/);
    assert.match(r.stdout, /GettingVersion → MyCheck → Completed/);
    assert.equal(r.stderr, '', 'no warnings');
  });

  it('the same script as run.mts compiles on Node 20 and runs', async () => {
    fs.writeFileSync(path.join(project, 'run.mts'), fileBlock(blocks, 'run.mjs').text);
    fs.rmSync(path.join(project, 'run.mjs'), { force: true });
    const r = await sh(commandStarting(blocks, 'npx tsc'), project);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /GettingVersion → MyCheck → Completed/);
  });
});
