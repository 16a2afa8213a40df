// Report, log and data files: a path naming a device, a FIFO or a symlink is
// written into (never replaced by a regular file), and a file that cannot be
// written fails the command with one line.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { parseJUnit, SERVER_ARGS, sleep } from './util.js';

const BASIC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/suites');
const RUN = ['run', '--suites-dir', BASIC, 'basic', ...SERVER_ARGS];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-reports-'));

/**
 * A device whose writes fail with ENOSPC, like /dev/full. As root, a private one
 * made here: code that renames over devices (the bug these tests catch) would
 * otherwise replace the system's /dev/full. Others cannot rename in /dev.
 */
function fullDevice(): string {
  if (process.getuid?.() !== 0) return '/dev/full';
  const dev = path.join(tmp, 'full-device');
  if (!fs.existsSync(dev)) execFileSync('mknod', ['-m', '666', dev, 'c', '1', '7']);
  return dev;
}

/** The single error line of stderr (there must be exactly one). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(lines.length, 1, stderr);
  return lines[0];
}

describe('report files (--junit, --json, --log-file, gen-data)', function () {
  this.timeout(120_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('--junit into a FIFO writes through it and leaves the FIFO a FIFO', async () => {
    const fifo = path.join(tmp, 'junit.fifo');
    execFileSync('mkfifo', [fifo]);
    // a reader, as `--junit >(cat)` would have
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let received = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (received += d));
    try {
      const r = await runCli([...RUN, '--junit', fifo]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(fs.lstatSync(fifo).isFIFO(), 'the FIFO was replaced');
      for (let i = 0; i < 50 && !received.includes('</testsuites>'); i++) await sleep(100);
      assert.match(received, /<testsuites name="test-rig"[\s\S]*<\/testsuites>/);
    } finally {
      reader.kill();
    }
  });

  it('--junit on a device node (root only: mknod) writes into the device', async function () {
    const dev = path.join(tmp, 'null-device');
    // a character device like /dev/null, made here so the system's is never at risk
    if (process.getuid?.() === 0) execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3']);
    else fs.symlinkSync('/dev/null', dev); // through a symlink: the link must stay a link
    const before = fs.lstatSync(dev);
    const r = await runCli([...RUN, '--junit', dev, '--json', dev]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const after = fs.lstatSync(dev);
    assert.equal(after.mode, before.mode, 'the device node (or link) was replaced');
    assert.ok(after.isCharacterDevice() || after.isSymbolicLink());
  });

  it('--junit and --json through a symlink write the file it points to; the link stays', async () => {
    const target = path.join(tmp, 'real-report.xml');
    const link = path.join(tmp, 'report-link.xml');
    fs.symlinkSync('real-report.xml', link); // dangling: the report creates the target
    const jsonTarget = path.join(tmp, 'real.jsonl');
    const jsonLink = path.join(tmp, 'link.jsonl');
    fs.writeFileSync(jsonTarget, 'old\n');
    fs.symlinkSync(jsonTarget, jsonLink);
    const r = await runCli([...RUN, '--junit', link, '--json', jsonLink]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the JUnit symlink was replaced');
    assert.ok(fs.lstatSync(jsonLink).isSymbolicLink(), 'the JSON symlink was replaced');
    assert.ok(parseJUnit(target).cases.length > 0);
    assert.match(fs.readFileSync(jsonTarget, 'utf8'), /^\{"event":"start"/);
    // a second run replaces the target's content, still through the link
    const again = await runCli([...RUN, '--junit', link]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.ok(parseJUnit(target).cases.length > 0);
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')),
      [],
      'temporary files left behind',
    );
  });

  it('a report that cannot be written (ENOSPC: /dev/full) fails the run with one line', async () => {
    const full = fullDevice();
    for (const flag of ['--junit', '--json']) {
      const r = await runCli([...RUN, flag, full]);
      assert.equal(r.code, 1, `${flag}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /PASS/, 'the cases still ran');
      assert.match(
        errorLine(r.stderr),
        new RegExp(
          `^error: cannot write the ${flag === '--junit' ? 'JUnit' : 'JSON'} report to ${full}: no space left on device \\(ENOSPC\\)`,
        ),
      );
      assert.ok(fs.lstatSync(full).isCharacterDevice(), 'the device was replaced');
    }
  });

  it('a report path that is a folder is refused before anything runs (exit 2)', async () => {
    const r = await runCli([...RUN, '--junit', tmp]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      errorLine(r.stderr),
      /^error: cannot write the JUnit report to .*: it is a directory .*hint: /,
    );
    assert.doesNotMatch(r.stdout, /PASS/);
    const j = await runCli([...RUN, '--json', tmp]);
    assert.equal(j.code, 2, j.stderr);
    assert.match(errorLine(j.stderr), /cannot write the JSON report/);
    const notDir = path.join(tmp, 'plain-file');
    fs.writeFileSync(notDir, '');
    const n = await runCli([...RUN, '--junit', path.join(notDir, 'r.xml')]);
    assert.equal(n.code, 2, n.stderr);
    assert.match(errorLine(n.stderr), /cannot write the JUnit report/);
  });

  it('--log-file and gen-data write in place, through symlinks, and fail with one line', async () => {
    const target = path.join(tmp, 'data.csv');
    const link = path.join(tmp, 'data-link.csv');
    fs.symlinkSync(target, link);
    const g = await runCli(['gen-data', '-q', '-r', '10', '-o', link]);
    assert.equal(g.code, 0, g.stderr);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(target, 'utf8').split('\n').length, 12); // header, 10 rows, final newline
    const dev = fullDevice();
    const full = await runCli(['gen-data', '-q', '-r', '1000', '-o', dev]);
    assert.equal(full.code, 1, full.stderr);
    assert.match(errorLine(full.stderr), /^error: cannot write the data to .*: no space left/);
    assert.doesNotMatch(full.stderr, /\n\s+at /, 'a stack trace');
    assert.ok(fs.lstatSync(dev).isCharacterDevice());
    const dir = await runCli(['gen-data', '-q', '-r', '10', '-o', tmp]);
    assert.equal(dir.code, 1, dir.stderr);
    assert.match(errorLine(dir.stderr), /it is a directory/);
    const log = await runCli([...RUN, '--log-file', tmp]);
    assert.notEqual(log.code, 0);
    assert.match(errorLine(log.stderr), /^error: cannot write the log file to .*: it is a directory/);
  });
});
