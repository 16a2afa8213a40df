// Bounded input: numbers that would overflow a timer or exhaust the machine,
// hostile configuration files and odd host:port forms each get one clear line
// and exit code 2, never a stack trace or a TimeoutOverflowWarning.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { compileGlob } from '../../ts/runner/plan.js';
import { CaseOutput } from '../../ts/runner/output.js';
import { runCli } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';
import { SERVER_ARGS, SUITES, casesOf } from './util.js';

/** One `error: …` line (commander's or ours) and nothing that looks like a crash. */
function assertOneLineError(
  r: { code: number | null; stdout: string; stderr: string },
  what: string,
  why: RegExp,
) {
  assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], /^error: /, what);
  assert.match(lines[0], why, what);
  assert.doesNotMatch(r.stderr, /\n\s+at |TimeoutOverflowWarning|RangeError/, what);
}

describe('reliability: bounded numbers, hostile config files, host:port forms', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-limits-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('bad numbers on the command line: one line, exit 2', async () => {
    const list = ['run', '--list', '--suites-dir', SUITES, 'inject'];
    const cases: [string[], RegExp][] = [
      [[...list, '-j', '-1'], /--jobs.*'-1'.*whole number from 1/],
      [[...list, '-j', '0'], /--jobs.*whole number from 1/],
      [[...list, '-j', '1e6'], /--jobs.*whole number/],
      [[...list, '--timeout', '0'], /--timeout.*seconds from 0\.001 to 2147483/],
      [[...list, '--timeout', '1e10'], /--timeout.*seconds from/],
      [[...list, '--timeout', 'Infinity'], /--timeout.*seconds from/],
      [[...list, '--max-steps', '0'], /--max-steps.*whole number from 1/],
      [[...list, '--retries', '-2'], /--retries.*whole number from 0/],
      [
        ['monitor', '-H', '127.0.0.1:1', '--password=', '--interval', '1e10'],
        /--interval "1e10".*seconds from 0 to/,
      ],
      [['monitor', '-H', '127.0.0.1:1', '--password=', '--duration', '-5'], /--duration "-5"/],
    ];
    for (const [args, why] of cases) assertOneLineError(await runCli(args), args.join(' '), why);
    // in range they are accepted
    const ok = await runCli([...list, '-j', '4', '--timeout', '2.5', '--max-steps', '10', '--retries', '1']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('config numbers out of range (1e400, 1e308): file:line errors, exit 2', async () => {
    const file = path.join(tmp, 'big.yaml');
    fs.writeFileSync(
      file,
      'database:\n  timeout_secs: 1e400\n  pool_size: 1e308\ntest:\n  timeout_secs: 1e10\n',
    );
    const r = await runCli(['config', 'show', '-c', file]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.replace(/^error: .*big\.yaml:/, '')),
      [
        '2: "database.timeout_secs" must be a finite number, got number Infinity',
        '3: "database.pool_size" must be at most 10000, got number 1e+308',
        '5: "test.timeout_secs" must be at most 2147483, got number 10000000000',
      ],
    );
  });

  it('deeply nested, alias-bomb and prototype-named config files: errors naming the file, exit 2', async () => {
    const n = 200_000;
    const laughs = ['    a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `    a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    const files: [string, string, RegExp][] = [
      [
        'deep.json',
        `{"test":{"params":{"a":${'['.repeat(n)}${']'.repeat(n)}}}}`,
        /nested more than 64 levels/,
      ],
      ['deep.yaml', `test:\n  params:\n    a: ${'['.repeat(n)}${']'.repeat(n)}\n`, /deep\.yaml:\d+: /],
      ['deep.toml', `[test.params]\na = ${'['.repeat(n)}${']'.repeat(n)}\n`, /deep\.toml:\d+: /],
      [
        'nested.json',
        `{"test":{"params":{"a":${'{"b":'.repeat(100)}1${'}'.repeat(100)}}}}`,
        /nested more than 64/,
      ],
      [
        'bomb.yaml',
        `test:\n  params:\n${laughs.join('\n')}\n`,
        /bomb\.yaml:1: cannot read this YAML file: .*alias/i,
      ],
      ['proto.json', '{"__proto__":{"x":1},"database":{"constructor":1}}', /unknown section "__proto__"/],
    ];
    for (const [name, text, why] of files) {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text);
      const r = await runCli(['config', 'show', '-c', file]);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: \\S*${name.replace('.', '\\.')}:\\d+: `), name);
      assert.match(r.stderr, why, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, name);
    }
    // and `constructor` is not a key of `database` either
    const proto = await runCli(['config', 'show', '-c', path.join(tmp, 'proto.json')]);
    assert.match(proto.stderr, /unknown key "database\.constructor"/);
  });

  it('-H ::1 is [::1] on the default port; spaces around any form are ignored; IPv6 is bracketed in output', async () => {
    for (const [given, shown] of [
      ['::1', '[::1]:4000'],
      [' ::1 ', '[::1]:4000'],
      [' [::1]:3307 ', '[::1]:3307'],
      [' db.example:5 ', 'db.example:5'],
    ]) {
      const r = await runCli(['config', 'show', '-H', given]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^host\\s+${shown.replace(/[[\].]/g, '\\$&')}$`, 'm'), given);
    }
    const env = await runCli(['config', 'show'], { env: { TIDB_HOST: ' ::1 ', TIDB_PORT: ' 3307 ' } });
    assert.match(env.stdout, /^host\s+\[::1\]:3307$/m, env.stdout + env.stderr);
    // a refused connection names the address in brackets too
    const c = await runCli(['connect', '-H', '::1:1', '--password='], { timeoutMs: 30_000 });
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /\[::1:1\]:4000/);
  });

  describe('TLS files', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

    it("a relative ssl_ca in a config file is read from the config file's folder, whatever the working directory", async () => {
      const dir = path.join(tmp, 'project');
      fs.mkdirSync(path.join(dir, 'certs'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'certs', 'ca.pem'), pem);
      const cfg = path.join(dir, 'test-rig.toml');
      fs.writeFileSync(cfg, `[database]\nhost = "${testHostPort}"\nssl_ca = "certs/ca.pem"\n`);
      // run from elsewhere: the file is found (the test server then refuses TLS, it has none)
      const r = await runCli(['connect', '-c', cfg, '--password='], { cwd: os.tmpdir() });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /does not support secure connection/, r.stderr);
      assert.doesNotMatch(r.stderr, /no such file|ENOENT/);
    });

    it('a missing TLS file is one line naming it (flag or config key), exit 2; a certificate needs its key', async () => {
      const cfg = path.join(tmp, 'missing-ca.yaml');
      fs.writeFileSync(cfg, `database:\n  host: "${testHostPort}"\n  ssl_ca: nowhere/ca.pem\n`);
      assertOneLineError(
        await runCli(['connect', '-c', cfg, '--password=']),
        'config ssl_ca',
        new RegExp(`database\\.ssl_ca ${tmp.replace(/[.]/g, '\\.')}/nowhere/ca\\.pem: no such file`),
      );
      assertOneLineError(
        await runCli(['connect', '-H', testHostPort, '--password=', '--ssl-ca', path.join(tmp, 'nope.pem')]),
        '--ssl-ca',
        /--ssl-ca \S*nope\.pem: no such file/,
      );
      const cert = path.join(tmp, 'cert.pem');
      fs.writeFileSync(cert, pem);
      assertOneLineError(
        await runCli(['connect', '-H', testHostPort, '--password=', '--ssl-cert', cert]),
        '--ssl-cert alone',
        /--ssl-cert needs a key/,
      );
      assertOneLineError(
        await runCli(['connect', '-H', testHostPort, '--password=', '--ssl-key', cert]),
        '--ssl-key alone',
        /--ssl-key needs a certificate/,
      );
    });
  });

  describe('globs and state names', () => {
    it('compileGlob matches exactly what the glob says (property, against a reference RegExp)', () => {
      const reference = (glob: string) =>
        new RegExp(
          `^${glob
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
          'is',
        );
      const alphabet = fc.constantFrom('a', 'B', 'c', '*', '?', '.', '(', '\n');
      fc.assert(
        fc.property(
          fc.string({ unit: alphabet, maxLength: 8 }),
          fc.string({ unit: fc.constantFrom('a', 'b', 'C', '.', '(', '\n'), maxLength: 10 }),
          (glob, name) => {
            assert.equal(
              compileGlob(glob)(name),
              reference(glob).test(name),
              `${JSON.stringify(glob)} ~ ${JSON.stringify(name)}`,
            );
          },
        ),
        { numRuns: 5000 },
      );
    });

    it("--handler '*M*M*M*M*M*X' against a 5,000-character class name: linear, not exponential; an over-long glob is refused", async () => {
      const dir = path.join(tmp, 'long_names');
      fs.mkdirSync(dir, { recursive: true });
      const name = `${'M'.repeat(5000)}Handler`;
      fs.writeFileSync(
        path.join(dir, 'test_long.py'),
        `from test_rig import PyState, PyStateHandler\n\nclass ${name}(PyStateHandler):\n    def execute(self, context):\n        return PyState.completed()\n`,
      );
      const started = performance.now();
      const miss = await runCli(['run', '--list', '--suite-dir', dir, '--handler', '*M*M*M*M*M*X'], {
        timeoutMs: 30_000,
      });
      assert.equal(miss.signal, null, 'killed: the match did not finish in 30 s');
      assert.equal(miss.code, 0, miss.stderr);
      assert.match(miss.stderr, /^0 cases in 1 suite/);
      const hit = await runCli(['run', '--list', '--suite-dir', dir, '--handler', '*M*M*M*M*M*handler']);
      assert.equal(hit.code, 0, hit.stderr);
      assert.ok(hit.stdout.includes(name));
      assert.ok(performance.now() - started < 30_000);
      assertOneLineError(
        await runCli(['run', '--list', '--suite-dir', dir, '--handler', '*M'.repeat(200)]),
        'long glob',
        /--handler '\*M.*' is 400 characters long, at most 256/,
      );
    });

    it('a handler returning a 50 MB state name fails at once with a clear error', async () => {
      const dir = path.join(tmp, 'big_state');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'test_big.py'),
        'from test_rig import PyStateHandler\n\nclass BigStateHandler(PyStateHandler):\n    def execute(self, context):\n        return "x" * 50_000_000\n',
      );
      const json = path.join(tmp, 'big.jsonl');
      const r = await runCli(['run', ...SERVER_ARGS, '--suite-dir', dir, '--json', json], {
        timeoutMs: 60_000,
      });
      assert.equal(r.signal, null, 'killed: still running after 60 s');
      assert.equal(r.code, 1, r.stderr);
      const k = casesOf(json).get('BigStateHandler')!;
      assert.equal(k.status, 'failed');
      assert.match(
        k.message ?? '',
        /returned a state name of 50000000 characters, starting 'x{40}…': state names are at most 256 characters/,
      );
      assert.ok((k.message ?? '').length < 1000);
    });
  });

  describe('captured output', () => {
    it('CaseOutput keeps the first and last lines within its budget and says what it dropped', () => {
      const out = new CaseOutput({
        headLines: 3,
        headChars: 100,
        tailLines: 2,
        tailChars: 100,
        lineChars: 10,
      });
      for (let i = 0; i < 1000; i++) out.push({ stream: 'stdout', text: `l${i}` });
      out.push({ stream: 'stderr', text: 'z'.repeat(25) });
      assert.deepEqual(
        out.lines().map((l) => l.text),
        [
          'l0',
          'l1',
          'l2',
          'test-rig: 996 lines (3880 characters) of output dropped here; the first 3 and the last 2 lines are kept',
          'l999',
          'zzzzzzzzzz … [15 more characters cut]',
        ],
      );
      // by characters too: one long line pushes the older ones out of the tail
      const chars = new CaseOutput({
        headLines: 100,
        headChars: 5,
        tailLines: 100,
        tailChars: 8,
        lineChars: 100,
      });
      for (const t of ['abc', 'de', 'fghij', 'klmno', 'pqrstu']) chars.push({ stream: 'stdout', text: t });
      assert.deepEqual(
        chars.lines().map((l) => l.text),
        [
          'abc',
          'de',
          'test-rig: 2 lines (10 characters) of output dropped here; the first 2 and the last 1 lines are kept',
          'pqrstu',
        ],
      );
      const small = new CaseOutput();
      small.push({ stream: 'sql', text: 'SELECT 1' });
      assert.deepEqual(small.lines(), [{ stream: 'sql', text: 'SELECT 1' }]);
    });

    it('a handler printing 300,000 lines: the report keeps the first and last 10,000 and says how many were dropped', async () => {
      const dir = path.join(tmp, 'many_lines');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'test_many.py'),
        'from test_rig import PyState, PyStateHandler\n\nclass ManyLinesHandler(PyStateHandler):\n    def execute(self, context):\n        for i in range(300_000):\n            print(f"line {i}")\n        return PyState.completed()\n',
      );
      const json = path.join(tmp, 'many.jsonl');
      const r = await runCli(['run', ...SERVER_ARGS, '--suite-dir', dir, '--json', json], {
        timeoutMs: 110_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const out = casesOf(json)
        .get('ManyLinesHandler')!
        .output.filter((l) => l.stream !== 'sql');
      assert.equal(out.length, 20_001);
      assert.equal(out[0].text, 'line 0');
      assert.equal(out[9_999].text, 'line 9999');
      assert.match(out[10_000].text, /^test-rig: 280000 lines \(\d+ characters\) of output dropped here/);
      assert.equal(out[10_001].text, 'line 290000');
      assert.equal(out[20_000].text, 'line 299999');
    });
  });

  describe('clean streams', () => {
    it('--json - carries only JSON lines; control characters from handlers are escaped on the terminal', async () => {
      const dir = path.join(tmp, 'noisy');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'test_noisy.py'),
        [
          'import os, subprocess, sys, threading',
          'from test_rig import PyState, PyStateHandler',
          'print("module-level print")',
          'class NoisyHandler(PyStateHandler):',
          '    def execute(self, context):',
          '        print("routed \\x1b[2J\\x1b]0;title\\x07 bell\\r over")',
          '        os.write(1, b"raw fd 1 write\\n")',
          '        t = threading.Thread(target=lambda: (sys.__stdout__.write("thread line\\n"), sys.__stdout__.flush()))',
          '        t.start(); t.join()',
          '        subprocess.run(["echo", "from a subprocess"], stdin=subprocess.DEVNULL, stdout=1, stderr=2)',
          '        raise ValueError("bad \\x1b[31mred\\x1b[0m message")',
          '',
        ].join('\n'),
      );
      const r = await runCli(['run', ...SERVER_ARGS, '--suite-dir', dir, '--json', '-', '--show-output']);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON on stdout: ${l}`);
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { event: string }).event),
        ['start', 'case', 'summary'],
      );
      const k = JSON.parse(lines[1]) as { output: { text: string }[]; message: string };
      // the reports keep the text as printed
      assert.ok(k.output.some((o) => o.text.includes('\x1b[2J')));
      for (const text of ['module-level print', 'raw fd 1 write', 'thread line'])
        assert.ok(r.stderr.includes(text), `${text} missing from stderr: ${r.stderr}`);
      // the terminal shows it escaped, and no raw control character but newlines at all
      assert.match(r.stderr, /routed \\x1b\[2J\\x1b\]0;title\\x07 bell\\r over/);
      assert.match(r.stderr, /bad \\x1b\[31mred\\x1b\[0m message/);
      assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f]/);
    });
  });
});
