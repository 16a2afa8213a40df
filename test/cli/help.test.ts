import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli, CLI } from '../helpers/cli.js';

const SUBCOMMANDS: Record<string, string[]> = {
  connect: [
    '--host',
    '--user',
    '--database',
    '--password',
    '--no-password-prompt',
    '--config',
    '--show-sql',
    '--show-output',
    '--log-level',
    '--log-file',
    '--verbose',
    '--json',
    '--ssl-ca',
    '--ssl-cert',
    '--ssl-key',
    '--ssl-mode',
    '--local',
  ],
  run: ['--suite', '--test-file', '--host', '--local', '--shard', '--shard-count', '--durations-file'],
  merge: ['<reports...>', '--junit', '--json'],
  monitor: ['--duration', '--interval', '--until-done', '--job', '--host'],
  demo: ['--python-module', '--host', '--local'],
  isolation: ['--test-rows', '--host', '--local'],
  multi: ['--connection-count', '--host', '--local'],
  'config init': ['--output', '--format', '--host'],
  'config show': ['--config', '--json'],
  'new-suite': ['<name>', '--dir'],
  'gen-data': ['--rows', '--format', '--output'],
};

describe('test-rig --help and usage errors', function () {
  this.timeout(60_000);

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', `file://${CLI}`), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('lists every subcommand', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const name of [
      'connect',
      'run',
      'monitor',
      'demo',
      'isolation',
      'multi',
      'config',
      'new-suite',
      'gen-data',
      'merge',
    ]) {
      assert.match(r.stdout, new RegExp(`\\n  ${name}`), name);
    }
  });

  for (const [cmd, flags] of Object.entries(SUBCOMMANDS)) {
    it(`${cmd} --help shows its flags`, async () => {
      const r = await runCli([...cmd.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      for (const f of flags) assert.ok(r.stdout.includes(f), `${cmd} --help lacks ${f}`);
    });
  }

  it('an unknown subcommand is a one-line error with exit 2', async () => {
    const r = await runCli(['conect']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown command 'conect'.*connect/);
  });

  it('an unknown flag is a one-line error with exit 2', async () => {
    const r = await runCli(['connect', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown option '--bogus'/);
  });

  it('a bad --log-level value is a usage error', async () => {
    const r = await runCli(['connect', '--log-level', 'loud']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loud/);
  });

  it('no subcommand prints help and exits 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: test-rig/);
  });

  for (const [args, message] of [
    ['demo', /required option '--python-module <module>' not specified/],
    ['gen-data --format xml -o unused.csv', /argument 'xml' is invalid\. Allowed choices are csv, tsv/],
    ['run --db-type mock', /--db-type mock is gone.*--local/],
  ] as const) {
    it(`${args} is refused in one line with exit code 2`, async () => {
      const r = await runCli(args.split(' '));
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  for (const python of [false, true]) {
    it(`monitor${python ? ' --python-module' : ''} on a closed port: one line with the reason and a hint, exit 1`, async () => {
      const args = ['monitor', '-H', '127.0.0.1:1', '--password=', '-t', '1'];
      const r = await runCli(python ? [...args, '--python-module', 'unused_module'] : args);
      assert.equal(r.code, 1, r.stderr);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.deepEqual(errors, [
        'error: cannot connect to 127.0.0.1:1: connection refused (hint: is the server running? check -H host:port)',
      ]);
    });
  }

  it('monitor polls the server for the given duration and exits', async () => {
    // SHOW IMPORT JOBS is TiDB's: the import emulator answers it (MariaDB is refused, exit 2)
    const { setUp } = await import('../monitor/fixtures.js');
    const f = await setUp();
    try {
      const host = `${f.emu.host}:${f.emu.port}`;
      const r = await runCli(['monitor', '-H', host, '--password=', '-t', '1', '--interval', '0.5']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Import job monitoring completed/);
    } finally {
      await f.close();
    }
  });
});
