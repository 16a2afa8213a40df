// No false green: a run exits 0 only when every case ran and passed. A handler
// that tests nothing (no execute of its own) fails; a handler that ends the
// process (os._exit, a segfault) is reported as such, with the reports
// finished, the scratch databases dropped and the --local server stopped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { casesOf, existingDatabases, jsonLines, parseJUnit, SERVER_ARGS, sleep, SUITES } from './util.js';

/** SIGKILLs a process and its children (a stuck run process survives its supervisor). */
function killTree(pid: number): void {
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid)
        process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-false-green-'));

describe('reliability: no false green', function () {
  this.timeout(180_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a handler without its own execute (typo, empty subclass) fails, naming the likely typo; legacy bases still work', async () => {
    const json = path.join(tmp, 'no-execute.jsonl');
    const r = await runCli(['run', '--suites-dir', SUITES, 'no_execute', ...SERVER_ARGS, '--json', json]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    const failed = (name: string, re: RegExp) => {
      assert.equal(c.get(name)?.status, 'failed', `${name}: ${c.get(name)?.message}`);
      assert.match(c.get(name)?.message ?? '', re);
    };
    failed(
      'TypoHandler',
      /TypoHandler does not define execute\(\) \(it defines excute\(\): a typo for execute\?\)/,
    );
    failed('AsyncTypoHandler', /it defines exectue\(\): a typo for execute\?/);
    failed('EmptyHandler', /EmptyHandler does not define execute\(\): every handler must/);
    failed('OnlyEnterHandler', /OnlyEnterHandler does not define execute\(\)/);
    failed('MultiWithoutExecuteHandler', /MultiWithoutExecuteHandler does not define execute\(\)/);
    assert.doesNotMatch(c.get('MultiWithoutExecuteHandler')?.message ?? '', /typo/);
    assert.equal(
      c.get('InheritedExecuteHandler')?.status,
      'passed',
      c.get('InheritedExecuteHandler')?.message ?? '',
    );
    assert.equal(c.get('LegacyMultiHandler')?.status, 'passed', c.get('LegacyMultiHandler')?.message ?? '');
  });

  /** Runs the process_end suite's cases with this tag, with both reports. */
  async function runEnding(tag: string, extra: string[] = SERVER_ARGS) {
    const json = path.join(tmp, `${tag}.jsonl`);
    const junit = path.join(tmp, `${tag}.xml`);
    const r = await runCli([
      'run',
      '--suites-dir',
      SUITES,
      'process_end',
      '--tag',
      tag,
      ...extra,
      '--json',
      json,
      '--junit',
      junit,
    ]);
    return { r, json, junit };
  }

  for (const [tag, cls, how] of [
    ['exit0', 'ExitZeroHandler', 'exit 0'],
    ['exit7', 'ExitSevenHandler', 'exit 7'],
    ['segv', 'SegfaultHandler', 'signal SIGSEGV'],
    ['inline', 'InlineExitHandler', 'exit 0'],
  ] as const) {
    it(`a handler ending the process (${cls}: ${how}) fails the run, reported as such, reports finished, scratch database dropped`, async () => {
      const { r, json, junit } = await runEnding(tag);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, new RegExp(`FAIL\\s+process_end/test_process_end.py::${cls}`));
      assert.match(out, new RegExp(`ended the process \\(${how}\\)`));
      assert.match(
        r.stderr,
        new RegExp(`error: the run process ended \\(${how}\\) while running .*::${cls}`),
      );
      assert.match(r.stderr, /running the 1 case not run yet in a new run process/);
      assert.match(r.stdout, /3 cases: 2 passed, 1 failed, 0 skipped in/, 'the summary');
      const lines = jsonLines(json);
      const summary = lines[lines.length - 1];
      assert.equal(summary.event, 'summary');
      assert.equal(summary.not_run, 0);
      assert.equal(summary.failed, 1);
      assert.equal(summary.passed, 2);
      assert.equal(lines.filter((l) => l.event === 'start').length, 1);
      const c = casesOf(json);
      assert.equal(c.get('AFirstHandler')?.status, 'passed');
      assert.equal(c.get(cls)?.status, 'failed');
      assert.match(c.get(cls)?.message ?? '', /ended the process/);
      assert.equal(c.get('ZLaterHandler')?.status, 'passed', 'the case after it ran');
      const x = parseJUnit(junit);
      assert.deepEqual(
        x.cases.map((k) => [k.name, k.kind]),
        [
          ['AFirstHandler', null],
          [cls, 'failure'],
          ['ZLaterHandler', null],
        ],
      );
      // the dead run process's scratch database was dropped by the supervisor
      const db = c.get(cls)?.database;
      assert.ok(db, 'the dropped scratch database is named');
      assert.deepEqual(await existingDatabases([db]), []);
    });
  }

  it('two handlers ending the process in one run: each reported, the run continues after each', async () => {
    const json = path.join(tmp, 'two.jsonl');
    const r = await runCli([
      'run',
      '--suites-dir',
      SUITES,
      'process_end',
      '--tag',
      'exit0',
      '--tag',
      'exit7',
      ...SERVER_ARGS,
      '--json',
      json,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    assert.deepEqual(
      ['AFirstHandler', 'ExitZeroHandler', 'ExitSevenHandler', 'ZLaterHandler'].map((n) => c.get(n)?.status),
      ['passed', 'failed', 'failed', 'passed'],
    );
    assert.match(r.stdout, /4 cases: 2 passed, 2 failed, 0 skipped in/);
  });

  it('--fail-fast: the run stops at a handler ending the process, the rest not run', async () => {
    const json = path.join(tmp, 'ff.jsonl');
    const r = await runCli([
      'run',
      '--suites-dir',
      SUITES,
      'process_end',
      '--tag',
      'exit7',
      '--fail-fast',
      ...SERVER_ARGS,
      '--json',
      json,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = jsonLines(json);
    assert.equal(lines[lines.length - 1].not_run, 1);
    assert.equal(casesOf(json).has('ZLaterHandler'), false);
  });

  it('a third Ctrl-C kills a run process whose JS thread a handler holds; the reports are finished', async () => {
    const json = path.join(tmp, 'stuck.jsonl');
    const junit = path.join(tmp, 'stuck.xml');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--suites-dir',
        SUITES,
        'process_end',
        '--tag',
        'stuck',
        ...SERVER_ARGS,
        '--timeout',
        '600',
        '--json',
        json,
        '--junit',
        junit,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // the stuck case has started once AFirstHandler's verdict is out
    for (let i = 0; i < 300 && !/PASS\s+\S+AFirstHandler/.test(output); i++) await sleep(100);
    if (!/AFirstHandler/.test(output)) killTree(child.pid!);
    assert.match(output, /AFirstHandler/);
    await sleep(1500);
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      child.kill('SIGINT');
      await sleep(300);
    }
    const code = await Promise.race([exited, sleep(20_000).then(() => 'hung')]);
    if (code === 'hung') killTree(child.pid!);
    assert.equal(code, 130, output);
    assert.ok(Date.now() - t0 < 20_000);
    const lines = jsonLines(json);
    const summary = lines[lines.length - 1];
    assert.equal(summary.event, 'summary', output);
    assert.equal(summary.interrupted, true);
    assert.equal(casesOf(json).get('StuckInlineHandler')?.status, 'cancelled');
    assert.deepEqual(
      parseJUnit(junit).cases.map((k) => [k.name, k.kind]),
      [
        ['AFirstHandler', null],
        ['StuckInlineHandler', 'error'],
      ],
    );
  });

  it('with --local, a handler ending the process still stops the throwaway server', async () => {
    const { r } = await runEnding('exit0', ['--local', '-v']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /ended \(exit 0\)/);
    const m = /local \S+ server on (\S+):(\d+) \(data (.+)\)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(fs.existsSync(m[3]), false, 'the data directory is left behind');
    const refused = await new Promise<boolean>((resolve) => {
      const sock = net.connect(Number(m[2]), m[1]);
      sock.once('connect', () => (sock.destroy(), resolve(false)));
      sock.once('error', () => resolve(true));
    });
    assert.ok(refused, 'the local server still listens');
  });
});
