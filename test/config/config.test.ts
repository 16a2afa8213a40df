import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

interface Shown {
  config_file: string | null;
  host: string;
  user: string;
  database: string | null;
  pool_size: number;
  timeout_secs: number;
  log_level: string;
  password: string;
  sources: Record<string, string>;
}

describe('configuration files and precedence', function () {
  this.timeout(60_000);
  let dir: string;
  const write = (name: string, text: string, mode = 0o600) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
    return p;
  };
  const show = async (args: string[], env: Record<string, string | undefined> = {}, cwd = dir) => {
    const r = await runCli(['config', 'show', '--json', ...args], { env, cwd });
    assert.equal(r.code, 0, r.stderr);
    return { shown: JSON.parse(r.stdout) as Shown, stderr: r.stderr };
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trcfg-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const FILES: Record<string, string> = {
    'c.json': `{\n  "database": {"host": "jsonhost:4001", "username": "ju", "pool_size": 7, "timeout_secs": 3},\n  "logging": {"level": "warn"},\n  "test": {"rows": 5, "params": {"x": 1}},\n  "monitor": {"interval": 2}\n}\n`,
    'c.toml': `[database]\nhost = "tomlhost:4002"\nusername = "tu"\npool_size = 7\ntimeout_secs = 3\n\n[logging]\nlevel = "warn"\n\n[test]\nrows = 5\n\n[test.params]\nx = 1\n\n[monitor]\ninterval = 2\n`,
    'c.yaml': `database:\n  host: yamlhost:4003\n  username: yu\n  pool_size: 7\n  timeout_secs: 3\nlogging:\n  level: warn\ntest:\n  rows: 5\n  params: {x: 1}\nmonitor:\n  interval: 2\n`,
  };
  for (const [name, text] of Object.entries(FILES)) {
    it(`loads ${path.extname(name).slice(1).toUpperCase()} (${name})`, async () => {
      const f = write(name, text);
      const { shown } = await show(['-c', f]);
      const fmt = path.extname(name).slice(1);
      assert.match(shown.host, new RegExp(`^${fmt}host:400\\d$`));
      assert.equal(shown.user, `${fmt[0]}u`);
      assert.equal(shown.pool_size, 7);
      assert.equal(shown.timeout_secs, 3);
      assert.equal(shown.log_level, 'warn');
      assert.equal(shown.sources.host, 'config');
    });
  }

  const BROKEN: [string, string, RegExp][] = [
    [
      'bad.toml',
      `[database]\nhost = "h:1"\n\n[databse]\nhost = "x"\n`,
      /bad\.toml:4: unknown section "databse"/,
    ],
    [
      'bad2.toml',
      `# comment\n[database]\nhost = "h:1"\nusername = "u"\n\n\ndatabse.host = "x"\n`,
      /bad2\.toml:7: unknown key "database\.databse"/,
    ],
    [
      'type.toml',
      `[database]\nhost = "h:1"\npool_size = "five"\n`,
      /type\.toml:3: "database\.pool_size" must be an integer, got string "five"/,
    ],
    ['syntax.toml', `[database]\nhost = "h:1"\nusername = = "u"\n`, /syntax\.toml:3: invalid TOML/],
    [
      'bad.json',
      `{\n  "database": {\n    "host": "h:1",\n    "hots": "x"\n  }\n}\n`,
      /bad\.json:4: unknown key "database\.hots" \(did you mean "database\.host"\?\)/,
    ],
    [
      'type.json',
      `{\n  "logging": {\n    "console": "yes"\n  }\n}\n`,
      /type\.json:3: "logging\.console" must be true or false/,
    ],
    ['syntax.json', `{\n  "database": {\n    "host": "h:1",\n  }\n}\n`, /syntax\.json:4: invalid JSON/],
    [
      'short.toml',
      `[database]\nhost = "h:1"\nuser = "u"\n`,
      /short\.toml:3: unknown key "database\.user" \(did you mean "database\.username"\?\)/,
    ],
    [
      'bad.yaml',
      `database:\n  host: h:1\nlogging:\n  levle: debug\n`,
      /bad\.yaml:4: unknown key "logging\.levle"/,
    ],
    [
      'type.yaml',
      `database:\n  host: h:1\nmonitor:\n  interval: -1\n`,
      /type\.yaml:4: "monitor\.interval" must be greater than 0/,
    ],
    ['syntax.yaml', `database:\n  host: h:1\n   bad: [\n`, /syntax\.yaml:\d+: invalid YAML/],
  ];
  for (const [name, text, re] of BROKEN) {
    it(`reports ${name} with the line number, exit 2`, async () => {
      const f = write(name, text);
      const r = await runCli(['connect', '-c', f, '--password=']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    });
  }

  it('a wrong-typed password is reported without its value', async () => {
    const f = write('pw.toml', `[database]\npassword = 918273645\n`);
    const r = await runCli(['connect', '-c', f]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pw\.toml:2: "database\.password" must be a string/);
    assert.ok(!r.stderr.includes('918273645'));
  });

  it('a missing -c file is an error, exit 2', async () => {
    const r = await runCli(['connect', '-c', path.join(dir, 'nope.toml'), '--password=']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.toml: config file not found/);
  });

  it('finds default config files in order: test-rig.* before tidb_config.* before config/tidb.*', async () => {
    write('config/tidb.toml', `[database]\nhost = "third:1"\n`);
    assert.equal((await show([])).shown.host, 'third:1');
    write('tidb_config.json', `{"database": {"host": "second:1"}}`);
    assert.equal((await show([])).shown.host, 'second:1');
    write('test-rig.yaml', `database:\n  host: first:1\n`);
    const { shown } = await show([]);
    assert.equal(shown.host, 'first:1');
    assert.match(String(shown.config_file), /test-rig\.yaml$/);
  });

  it('warns when a config file holding a password is readable by others, never printing it', async () => {
    write('test-rig.toml', `[database]\npassword = "file-secret-77"\n`, 0o644);
    const { shown, stderr } = await show([]);
    assert.match(
      stderr,
      /warning: test-rig\.toml holds a password and is readable by group\/others.*chmod 600/,
    );
    assert.equal(shown.password, '(set)');
    assert.equal(shown.sources.password, 'config');
    assert.ok(!stderr.includes('file-secret-77'));
    fs.chmodSync(path.join(dir, 'test-rig.toml'), 0o600);
    assert.doesNotMatch((await show([])).stderr, /readable by group/);
  });

  describe('precedence: flag > env > config > default', () => {
    it('default when nothing is given', async () => {
      const { shown } = await show([]);
      assert.equal(shown.host, 'localhost:4000');
      assert.equal(shown.user, 'root');
      assert.equal(shown.sources.host, 'default');
      assert.equal(shown.password, '(empty)'); // as the mysql client: no -p, no password
      assert.equal(shown.sources.password, 'default');
      assert.equal((await show(['-p'])).shown.password, '(not set)'); // -p: asked for when connecting
    });

    it('config beats default', async () => {
      write('test-rig.toml', `[database]\nhost = "cfg:1111"\nusername = "cfguser"\ndatabase = "cfgdb"\n`);
      const { shown } = await show([]);
      assert.deepEqual([shown.host, shown.user, shown.database], ['cfg:1111', 'cfguser', 'cfgdb']);
    });

    it('env beats config (TIDB_HOST, TIDB_PORT, TIDB_USER, TIDB_PASSWORD, TIDB_DATABASE)', async () => {
      write(
        'test-rig.toml',
        `[database]\nhost = "cfg:1111"\nusername = "cfguser"\ndatabase = "cfgdb"\npassword = "cfgpw"\n`,
      );
      const { shown } = await show([], {
        TIDB_HOST: 'envhost',
        TIDB_PORT: '2222',
        TIDB_USER: 'envuser',
        TIDB_DATABASE: 'envdb',
        TIDB_PASSWORD: 'x',
      });
      assert.deepEqual([shown.host, shown.user, shown.database], ['envhost:2222', 'envuser', 'envdb']);
      assert.equal(shown.sources.password, 'env');
      assert.equal(shown.sources.port, 'env');
    });

    it('TIDB_HOST may carry the port', async () => {
      const { shown } = await show([], { TIDB_HOST: 'envhost:3333' });
      assert.equal(shown.host, 'envhost:3333');
    });

    it('flags beat env', async () => {
      const { shown } = await show(['-H', 'flaghost:5555', '-u', 'flaguser', '-d', 'flagdb'], {
        TIDB_HOST: 'envhost',
        TIDB_PORT: '2222',
        TIDB_USER: 'envuser',
        TIDB_DATABASE: 'envdb',
      });
      assert.deepEqual([shown.host, shown.user, shown.database], ['flaghost:5555', 'flaguser', 'flagdb']);
    });

    it('an explicit -H localhost:4000 / -u root equal to the defaults is never overridden by env', async () => {
      const { shown } = await show(['-H', 'localhost:4000', '-u', 'root'], {
        TIDB_HOST: 'envhost:9999',
        TIDB_PORT: '9998',
        TIDB_USER: 'envuser',
      });
      assert.equal(shown.host, 'localhost:4000');
      assert.equal(shown.user, 'root');
      assert.equal(shown.sources.host, 'flag');
    });

    it('--password beats TIDB_PASSWORD, which beats the config file', async () => {
      write('test-rig.toml', `[database]\npassword = "cfgpw"\n`);
      assert.equal((await show([], { TIDB_PASSWORD: '' })).shown.sources.password, 'env');
      assert.equal(
        (await show(['--password=flagpw'], { TIDB_PASSWORD: 'e' })).shown.sources.password,
        'flag',
      );
    });

    it('log level: --log-level > -v > TEST_RIG_LOG > logging.level', async () => {
      write('test-rig.toml', `[logging]\nlevel = "warn"\n`);
      assert.equal((await show([])).shown.log_level, 'warn');
      assert.equal((await show([], { TEST_RIG_LOG: 'error' })).shown.log_level, 'error');
      assert.equal((await show(['-v'], { TEST_RIG_LOG: 'error' })).shown.log_level, 'debug');
      assert.equal((await show(['-v', '--log-level', 'trace'])).shown.log_level, 'trace');
    });
  });

  it('TEST_RIG_LOG=debug turns on debug lines', async () => {
    const r = await runCli(['config', 'show'], { env: { TEST_RIG_LOG: 'debug' }, cwd: dir });
    assert.match(r.stderr, /DEBUG/);
    const quiet = await runCli(['config', 'show'], { cwd: dir });
    assert.doesNotMatch(quiet.stderr, /DEBUG/);
  });

  it('no colour codes when NO_COLOR is set or output is not a terminal', async () => {
    const r = await runCli(['config', 'show', '-v'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' }, cwd: dir });
    assert.doesNotMatch(r.stderr + r.stdout, /\x1b\[/);
    const piped = await runCli(['config', 'show', '-v'], { env: { NO_COLOR: undefined }, cwd: dir });
    assert.doesNotMatch(piped.stderr + piped.stdout, /\x1b\[/);
  });

  describe('config init', () => {
    for (const fmt of ['json', 'toml', 'yaml']) {
      it(`writes a ${fmt} file that loads back`, async () => {
        const out = path.join(dir, `gen.${fmt}`);
        const r = await runCli(['config', 'init', '-o', out, '-f', fmt, '-H', 'gen:4321', '-d', 'gendb'], {
          cwd: dir,
        });
        assert.equal(r.code, 0, r.stderr);
        const text = fs.readFileSync(out, 'utf8');
        if (fmt !== 'json') assert.match(text, /^# test-rig configuration/);
        else assert.match(r.stdout, /JSON has no comments/);
        assert.doesNotMatch(text, /^\s*"?password"?\s*[:=]/m, 'no password unless given');
        const { shown } = await show(['-c', out]);
        assert.equal(shown.host, 'gen:4321');
        assert.equal(shown.database, 'gendb');
      });
    }

    it('refuses to overwrite without --force', async () => {
      const out = path.join(dir, 'x.toml');
      assert.equal((await runCli(['config', 'init', '-o', out])).code, 0);
      const again = await runCli(['config', 'init', '-o', out]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already exists/);
      assert.equal((await runCli(['config', 'init', '-o', out, '--force'])).code, 0);
    });

    it('refuses a bad -H with one line and exit 2, writing nothing (the one host:port parser)', async () => {
      const out = path.join(dir, 'bad-host.toml');
      for (const host of ['[::1', 'a:b:c', 'db:99999']) {
        const r = await runCli(['config', 'init', '-o', out, '-H', host]);
        assert.equal(r.code, 2, host);
        assert.match(r.stderr, /^error: invalid host:port '.*': .+\n$/, host);
        assert.ok(!fs.existsSync(out), host);
      }
    });

    it('stores a password only when given, in a private file', async () => {
      const out = path.join(dir, 'pw.yaml');
      const r = await runCli(['config', 'init', '-o', out, '--password', 'initpw-55']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.statSync(out).mode & 0o777, 0o600);
      assert.match(fs.readFileSync(out, 'utf8'), /password: "initpw-55"/);
      assert.ok(!r.stdout.includes('initpw-55') && !r.stderr.includes('initpw-55'));
    });
  });
});
