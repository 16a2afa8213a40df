// Planning and requirement rules, without Python or a server.
import assert from 'node:assert/strict';
import { compileKeyword, planCases, parseShard } from '../../ts/runner/plan.js';
import { unmetRequirement } from '../../ts/runner/features.js';
import { selectSuites } from '../../ts/runner/discover.js';
import { junitXml } from '../../ts/runner/report/junit.js';
import type { CaseSpec, CaseResult } from '../../ts/runner/types.js';
import { detectServer } from '../../ts/db/server.js';

function spec(suite: string, fileName: string, name: string, tags: string[] = []): CaseSpec {
  return {
    id: `${suite}/${fileName}::${name}`,
    suite,
    suiteDir: `/s/${suite}`,
    file: `/s/${suite}/${fileName}`,
    fileName,
    name,
    line: 1,
    tags,
    requires: null,
    doc: '',
  };
}

const cases = [
  spec('txn', 'test_mvcc.py', 'SnapshotHandler', ['slow']),
  spec('txn', 'test_deadlock.py', 'DeadlockHandler'),
  spec('ddl', 'test_alter_table.py', 'AddColumnHandler', ['smoke']),
  spec('ddl', 'test_alter_index.py', 'AddIndexHandler'),
  spec('load_data', 'test_import.py', 'ImportCsvHandler'),
];
const names = (list: CaseSpec[]) => list.map((c) => c.name);

describe('runner plan', () => {
  it('filters by -k expressions with and/or/not and parentheses', () => {
    const k = (e: string) => names(cases.filter(compileKeyword(e)));
    assert.deepEqual(k('txn and not deadlock'), ['SnapshotHandler']);
    assert.deepEqual(k('(alter and index) or import'), ['AddIndexHandler', 'ImportCsvHandler']);
    assert.deepEqual(k('smoke'), ['AddColumnHandler']);
    assert.deepEqual(k('add*handler'), ['AddColumnHandler', 'AddIndexHandler']);
    assert.throws(() => compileKeyword('txn and'), /-k 'txn and': unexpected end/);
    assert.throws(() => compileKeyword('(txn'), /missing \)/);
  });

  it('filters by file, handler glob and tag', () => {
    assert.deepEqual(names(planCases(cases, { files: ['test_import'] })), ['ImportCsvHandler']);
    assert.deepEqual(names(planCases(cases, { files: ['test_alter_*.py'] })), [
      'AddColumnHandler',
      'AddIndexHandler',
    ]);
    assert.deepEqual(names(planCases(cases, { handlers: ['add*'] })), [
      'AddColumnHandler',
      'AddIndexHandler',
    ]);
    assert.deepEqual(names(planCases(cases, { tags: ['SLOW', 'smoke'] })), [
      'SnapshotHandler',
      'AddColumnHandler',
    ]);
  });

  it('deals shards that never overlap and together are the whole plan', () => {
    for (const n of [1, 2, 3, 7]) {
      const seen: string[] = [];
      for (let i = 1; i <= n; i++) seen.push(...planCases(cases, { shard: `${i}/${n}` }).map((c) => c.id));
      assert.deepEqual([...seen].sort(), cases.map((c) => c.id).sort(), `n=${n}`);
    }
    assert.throws(() => parseShard('0/2'), /1 <= i <= n/);
    assert.throws(() => parseShard('3/2'), /1 <= i <= n/);
  });

  it('evaluates requirements against the server', () => {
    const maria = detectServer('10.11.6-MariaDB-1');
    const tidb = detectServer('8.0.11-TiDB-v7.5.1');
    const mysql = detectServer('8.0.36');
    assert.match(
      unmetRequirement({ server: 'tidb', min_version: '6.2' }, maria) ?? '',
      /requires server tidb, server is mariadb 10.11.6/,
    );
    assert.equal(unmetRequirement({ server: 'tidb', min_version: '6.2' }, tidb), undefined);
    assert.match(unmetRequirement({ server: 'tidb', min_version: '8.1' }, tidb) ?? '', /version >= 8.1/);
    assert.equal(unmetRequirement('check_constraint', mysql), undefined);
    assert.match(unmetRequirement('check_constraint', detectServer('8.0.15')) ?? '', /needs mysql >= 8.0.16/);
    assert.match(unmetRequirement('stored_procedures', tidb) ?? '', /not available on tidb/);
    assert.match(unmetRequirement('invisible_indexes', maria) ?? '', /IGNORED indexes/);
    assert.equal(unmetRequirement(['savepoint', 'cte'], maria), undefined);
    assert.match(unmetRequirement({ feature: 'import_into' }, maria) ?? '', /import_into/);
    assert.match(unmetRequirement('no_such_thing', maria) ?? '', /unknown feature/);
    assert.throws(() => unmetRequirement({ sever: 'tidb' }, maria), /unknown key/);
  });

  it('selects suites case-insensitively and accepts import for load_data', () => {
    const all = [
      { name: 'ddl', dir: '/s/ddl' },
      { name: 'load_data', dir: '/s/load_data' },
    ];
    assert.deepEqual(
      selectSuites(all, ['DDL', 'import']).map((s) => s.name),
      ['ddl', 'load_data'],
    );
    assert.throws(() => selectSuites(all, ['txn']), /no suite named 'txn' \(suites: ddl, load_data\)/);
  });

  it('escapes JUnit XML', () => {
    const r: CaseResult = {
      case: spec('s', 'test_x.py', 'AHandler'),
      status: 'failed',
      durationMs: 5,
      attempts: 1,
      output: [{ stream: 'stdout', text: 'a <b> & "c" \u0001' }],
      failure: { message: 'bad <thing>' },
    };
    const xml = junitXml([r], {
      total: 1,
      passed: 0,
      failed: 1,
      skipped: 0,
      flaky: 0,
      cancelled: 0,
      notRun: 0,
      durationMs: 5,
      interrupted: false,
    });
    assert.match(xml, /<failure message="bad &lt;thing&gt;"/);
    assert.match(xml, /a &lt;b&gt; &amp; &quot;c&quot; <\/system-out>/);
  });
});
