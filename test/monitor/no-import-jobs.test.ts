// `test-rig monitor` against a server without SHOW IMPORT JOBS (the MariaDB the tests use):
// one error line with a hint on stderr, nothing on stdout, exit 2, and --until-done stops;
// with --show-sql the poll is echoed first.
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

describe('monitor on a server without SHOW IMPORT JOBS', function () {
  this.timeout(120_000);
  const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

  it('exits 2 with the error and a hint on stderr; --until-done stops', async () => {
    const r = await runCli(['monitor', ...server, '--until-done'], { timeoutMs: 60_000 });
    assert.equal(r.signal, null, 'the monitor did not stop by itself');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^error: this server does not support SHOW IMPORT JOBS: .*\(hint: monitor follows IMPORT INTO jobs, which TiDB 7\.2 or later has; MySQL and MariaDB have none\)$/m,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('--show-sql echoes its statements on stderr: it polls on the project Connection', async () => {
    const r = await runCli(['monitor', ...server, '--until-done', '--show-sql'], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^SQL \[main\] SHOW IMPORT JOBS$/m);
    assert.match(r.stderr, /^error: this server does not support SHOW IMPORT JOBS: /m);
  });

  it('--json: a fatal error line and a summary with exit_code 2 on stdout', async () => {
    const r = await runCli(['monitor', ...server, '--json'], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; fatal?: boolean; exit_code?: number; reason?: string });
    assert.deepEqual(
      events.map((e) => e.event),
      ['start', 'error', 'summary'],
    );
    assert.equal(events[1]!.fatal, true);
    assert.equal(events[2]!.exit_code, 2);
    assert.equal(events[2]!.reason, 'no SHOW IMPORT JOBS');
  });
});
