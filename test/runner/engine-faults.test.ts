// `test-rig run` on handlers that used to hang the run or be blamed on the
// wrong method: the built CLI as a child process against the local server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

const FAULTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/fixtures/engine_faults',
);
const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-engine-faults-'));

interface CaseLine {
  class: string;
  status: string;
  message: string | null;
  where: string | null;
  database: string | null;
}

function casesOf(file: string): Map<string, CaseLine> {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Map(
    lines.filter((l) => l.event === 'case').map((l) => [String(l.class), l as unknown as CaseLine]),
  );
}

async function query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await rawConnection();
  try {
    const [rows] = await conn.query(sql, params);
    return rows as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

describe('test-rig run: engine faults (CLI, real server)', function () {
  this.timeout(120_000);

  it('exceptions whose __str__ raises (in execute, async execute, __init__): failed cases with a clear message, exit 1, no hang', async () => {
    const json = path.join(tmp, 'unprintable.jsonl');
    const r = await runCli(
      [
        'run',
        ...server,
        '--suite-dir',
        FAULTS,
        '--file',
        'test_unprintable.py',
        '--timeout',
        '20',
        '--json',
        json,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.signal, null, `the run hung and was killed\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    const expect: Record<string, RegExp> = {
      RaisesUnprintableHandler:
        /^RaisesUnprintableHandler\.execute raised Unprintable: Unprintable\('not shown'\)/,
      AsyncRaisesUnprintableHandler:
        /^AsyncRaisesUnprintableHandler\.execute raised Unprintable: Unprintable\('not shown'\)/,
      RaisesUnrepresentableHandler:
        /^RaisesUnrepresentableHandler\.execute raised Unrepresentable: <unprintable Unrepresentable>/,
      InitRaisesUnprintableHandler:
        /^InitRaisesUnprintableHandler\.__init__ raised Unprintable: Unprintable\('not shown'\)/,
    };
    for (const [name, message] of Object.entries(expect)) {
      assert.equal(c.get(name)?.status, 'failed', name);
      assert.match(c.get(name)!.message ?? '', message);
      assert.match(c.get(name)!.where ?? '', /test_unprintable\.py:\d+$/);
    }
    assert.equal(c.get('AfterUnprintableHandler')?.status, 'passed');
    assert.doesNotMatch(r.stderr, /Exception in thread|Traceback/);
  });

  it('a handler stuck in exit (DROP TABLE waiting on its own other connection) is reported in exit, at its line; everything is cleaned up', async () => {
    const json = path.join(tmp, 'stuck.jsonl');
    const r = await runCli(
      [
        'run',
        ...server,
        '--suite-dir',
        FAULTS,
        '--file',
        'test_stuck_in_exit.py',
        '--timeout',
        '3',
        '--json',
        json,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json).get('StuckInExitHandler');
    assert.equal(c?.status, 'failed');
    const line =
      fs
        .readFileSync(path.join(FAULTS, 'test_stuck_in_exit.py'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('DROP TABLE locked')) + 1;
    assert.equal(
      c!.message,
      `timed out after 3s (in state 'Initial', in StuckInExitHandler.exit at ${path.join(FAULTS, 'test_stuck_in_exit.py')}:${line})`,
    );
    assert.equal(c!.where, `${path.join(FAULTS, 'test_stuck_in_exit.py')}:${line}`);
    // The case's connections are gone (the DROP with them) and so is its scratch database.
    let left: Record<string, unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      left = await query('SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE DB = ?', [c!.database]);
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(left, []);
    assert.deepEqual(await query('SHOW DATABASES WHERE `Database` = ?', [c!.database]), []);
  });

  it('a test file that hangs while importing fails as a case (with its line) within --timeout; the other files run, each imported once', async () => {
    const json = path.join(tmp, 'import.jsonl');
    const files = ['--file', 'test_import_hangs.py', '--file', 'test_imported_once.py'];
    const r = await runCli(
      ['run', ...server, '--suite-dir', FAULTS, ...files, '--timeout', '3', '--json', json],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.signal, null, `the run hung and was killed\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    const hung = path.join(FAULTS, 'test_import_hangs.py');
    assert.equal(c.get('test_import_hangs')?.status, 'failed');
    assert.equal(
      c.get('test_import_hangs')!.message,
      `cannot import test_import_hangs.py: still importing after 3s (the --timeout), at ${hung}:6: module-level code must not block`,
    );
    assert.equal(c.get('test_import_hangs')!.where, `${hung}:6`);
    // Both cases of this file see one execution of it (discovery's), not one per case.
    assert.equal(
      c.get('FirstImportCountHandler')?.status,
      'passed',
      c.get('FirstImportCountHandler')?.message ?? '',
    );
    assert.equal(
      c.get('SecondImportCountHandler')?.status,
      'passed',
      c.get('SecondImportCountHandler')?.message ?? '',
    );

    const list = await runCli(['run', '--list', '--suite-dir', FAULTS, ...files, '--timeout', '2'], {
      timeoutMs: 60_000,
    });
    assert.equal(list.signal, null, `--list hung and was killed\n${list.stdout}\n${list.stderr}`);
    assert.equal(list.code, 1, list.stdout + list.stderr);
    assert.match(
      list.stdout,
      /test_import_hangs\.py\t-\s+✖ cannot import test_import_hangs\.py: still importing after 2s/,
    );
    assert.match(list.stdout, /test_imported_once\.py\tSecondImportCountHandler/);
  });
});
