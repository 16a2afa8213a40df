// What the docs say about themselves: no references to issue numbers of a tracker the
// repository does not have (in docs, README or code comments), and no command described
// as "not yet available" that exists.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function filesUnder(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '__pycache__') out.push(...filesUnder(rel, exts));
    } else if (exts.some((e) => entry.name.endsWith(e))) {
      out.push(rel);
    }
  }
  return out;
}

describe('docs and comments', () => {
  it('never refer to issue numbers (external trackers like node-calls-python#52 are fine)', () => {
    const files = [
      'README.md',
      ...filesUnder('docs', ['.md']),
      ...filesUnder('ts', ['.ts']),
      ...filesUnder('test', ['.ts', '.py', '.md']),
      ...filesUnder('bench', ['.ts']),
      ...filesUnder('python', ['.py', '.pyi']),
      ...filesUnder('native', ['.cc', '.h']),
      ...filesUnder('suites', ['.py', '.md']),
    ];
    const pattern = /\bissues? #?\d+|\bissues \d+ and \d+|(?<![\w-])#\d{1,4}\b(?![0-9a-f])/gi;
    const found: string[] = [];
    for (const file of files) {
      if (file === path.join('test', 'docs', 'docs.test.ts')) continue;
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(pattern)) {
          if (/^#\d/.test(m[0]) && !/issue|PR|fixes|see/i.test(line)) continue; // CSS colours, counts
          found.push(`${file}:${i + 1}: ${m[0]}`);
        }
      });
    }
    assert.deepEqual(found, []);
  });

  it('docs/cli.md describes every command as available', () => {
    const cli = fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
    assert.doesNotMatch(cli, /not yet available/);
    assert.doesNotMatch(cli, /\(pending\)/);
    for (const cmd of ['run', 'demo', 'gen-data']) assert.match(cli, new RegExp(`## \`test-rig ${cmd}\\b`));
  });
});
