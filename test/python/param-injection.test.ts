// `--param` values used as query parameters cannot inject SQL, also when the
// session reads backslashes literally (NO_BACKSLASH_ESCAPES): run as a user
// would, through the CLI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const SUITES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/python/fixtures/suites',
);

describe('query parameters from --param under NO_BACKSLASH_ESCAPES (CLI)', function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'param-inject-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const name of ["nobody' OR 1=1 -- ", "\\' OR 1=1 -- ", 'x\\', 'alice']) {
    it(`matches only rows named exactly ${JSON.stringify(name)}, in execute_query and await query`, async () => {
      const json = path.join(tmp, 'cases.jsonl');
      const r = await runCli([
        'run',
        '-H',
        testHostPort,
        '-u',
        testServer.user,
        `--password=${testServer.password}`,
        '--suites-dir',
        SUITES,
        'param_inject',
        '--param',
        `name=${name}`,
        '--json',
        json,
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const cases = fs
        .readFileSync(json, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as { event: string; class?: string; status?: string; output?: { text: string }[] },
        )
        .filter((l) => l.event === 'case');
      assert.equal(cases.length, 2);
      const expected = name === 'alice' ? 1 : 0;
      for (const c of cases) {
        assert.equal(c.status, 'passed', JSON.stringify(c));
        assert.ok(
          c.output?.some((o) => o.text.includes(`: ${expected} rows for `)),
          JSON.stringify(c.output),
        );
      }
    });
  }
});
