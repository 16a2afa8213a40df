// Setup, call and teardown are reported apart: the built CLI runs a suite whose case leaves
// a real foreign key into its scratch database behind, so the runner's DROP DATABASE fails.
// That teardown failure is an error of its own (JSON `teardown_error`, JUnit
// `<error type="Teardown">`, exit 1), not an output line of a passed case; a failed call or
// setup names its phase.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

const CHILD = `trt_teardown_child_${process.pid}`;

const SUITE = `from test_rig import PyState, PyStateHandler


class LeavesForeignKeyHandler(PyStateHandler):
    """Passes, but a table in another database references its scratch database."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB")
        c.execute_query(
            "CREATE TABLE test.${CHILD} (pid INT, FOREIGN KEY (pid) REFERENCES \`%s\`.parent (id)) ENGINE=InnoDB"
            % context.database
        )
        return PyState.completed()


class CleanHandler(PyStateHandler):
    def execute(self, context):
        context.connection.execute_query("SELECT 1")
        return PyState.completed()


class FailsInCallHandler(PyStateHandler):
    def execute(self, context):
        raise ValueError("call went wrong")


class FailsInSetupHandler(PyStateHandler):
    def __init__(self):
        raise RuntimeError("setup went wrong")
`;

interface CaseRecord {
  class: string;
  status: string;
  phase: string | null;
  error_type: string | null;
  teardown_error: { message: string; type: string } | null;
  database: string | null;
  output: { stream: string; text: string }[];
}

/** The JUnit file read by Python's ElementTree: the counts and each case's child elements. */
function junit(file: string): {
  errors: string;
  cases: Record<string, { tag: string; type: string | null }[]>;
} {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = {c.get("name"): [{"tag": k.tag, "type": k.get("type")} for k in c if k.tag in ("failure", "error")]
         for c in root.iter("testcase")}
print(json.dumps({"errors": root.get("errors"), "cases": cases}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as ReturnType<
    typeof junit
  >;
}

describe('test-rig run: setup, call and teardown reported apart (CLI, real server)', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trt-teardown-'));
  let records: Map<string, CaseRecord>;
  let result: Awaited<ReturnType<typeof runCli>>;
  const leftBehind: string[] = [];

  before(async () => {
    const suite = path.join(tmp, 'suites', 'phases');
    fs.mkdirSync(suite, { recursive: true });
    fs.writeFileSync(path.join(suite, '__init__.py'), '');
    fs.writeFileSync(path.join(suite, 'test_phases.py'), SUITE);
    const args = ['run', '--suites-dir', path.join(tmp, 'suites'), '-H', testHostPort, '-u', testServer.user];
    result = await runCli(
      [
        ...args,
        `--password=${testServer.password}`,
        '--json',
        path.join(tmp, 'r.jsonl'),
        '--junit',
        path.join(tmp, 'r.xml'),
      ],
      { timeoutMs: 110_000 },
    );
    records = new Map(
      fs
        .readFileSync(path.join(tmp, 'r.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as CaseRecord & { event: string })
        .filter((r) => r.event === 'case')
        .map((r) => [r.class, r]),
    );
  });

  after(async () => {
    const conn = await rawConnection();
    try {
      await conn.query(`DROP TABLE IF EXISTS test.${CHILD}`);
      const first = records?.get('LeavesForeignKeyHandler')?.database;
      for (const db of [first, ...leftBehind]) if (db) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    } finally {
      await conn.end();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('reports the failed DROP as the teardown error of a case whose call passed, and exits 1', () => {
    assert.equal(result.code, 1, result.stderr);
    const r = records.get('LeavesForeignKeyHandler')!;
    assert.equal(r.status, 'passed');
    assert.equal(r.phase, null);
    assert.ok(r.teardown_error, JSON.stringify(r));
    assert.equal(r.teardown_error.type, 'Teardown');
    assert.match(
      r.teardown_error.message,
      new RegExp(`^test-rig: could not drop scratch database ${r.database}: .*foreign key constraint fails`),
    );
    // still named on stderr and in the case's output, as before
    assert.ok(r.output.some((l) => l.stream === 'stderr' && l.text === r.teardown_error!.message));
    assert.match(result.stderr, /could not drop scratch database/);
  });

  it('exits 1 on a teardown error alone (every case passed)', async () => {
    const conn = await rawConnection();
    await conn.query(`DROP TABLE IF EXISTS test.${CHILD}`); // the first run's, so the case can make it again
    await conn.end();
    const only = await runCli(
      [
        'run',
        '--suites-dir',
        path.join(tmp, 'suites'),
        '-k',
        'LeavesForeignKey',
        '-H',
        testHostPort,
        '-u',
        testServer.user,
        `--password=${testServer.password}`,
        '--json',
        path.join(tmp, 'only.jsonl'),
      ],
      { timeoutMs: 110_000 },
    );
    const database = fs
      .readFileSync(path.join(tmp, 'only.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; status: string; database: string })
      .find((r) => r.event === 'case')!;
    leftBehind.push(database.database);
    assert.equal(database.status, 'passed');
    assert.equal(only.code, 1, only.stderr);
    assert.match(only.stderr, /could not drop scratch database/);
  });

  it('gives a clean case no teardown error, and names the phase of a failed call or setup', () => {
    const clean = records.get('CleanHandler')!;
    assert.equal(clean.status, 'passed');
    assert.equal(clean.teardown_error, null);
    const call = records.get('FailsInCallHandler')!;
    assert.deepEqual([call.status, call.phase, call.teardown_error], ['failed', 'call', null]);
    const setup = records.get('FailsInSetupHandler')!;
    assert.deepEqual([setup.status, setup.phase, setup.teardown_error], ['failed', 'setup', null]);
  });

  it('writes the teardown failure to JUnit as <error type="Teardown">, counted with the errors', () => {
    const x = junit(path.join(tmp, 'r.xml'));
    assert.deepEqual(x.cases.LeavesForeignKeyHandler, [{ tag: 'error', type: 'Teardown' }]);
    assert.deepEqual(x.cases.CleanHandler, []);
    assert.equal(x.cases.FailsInCallHandler[0].tag, 'failure');
    assert.equal(x.errors, '1');
  });
});
