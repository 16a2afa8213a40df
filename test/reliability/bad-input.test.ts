// Bad input: property-based tests (fast-check) for the JS ⇄ Python value
// converter, the config loader and host:port parsing, and half-written
// handler files run through `test-rig run`. (The SHOW IMPORT JOBS row parser
// has its properties in test/monitor/parse.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { stringify as tomlStringify } from 'smol-toml';
import { stringify as yamlStringify } from 'yaml';
import { PythonRuntime } from '../../ts/index.js';
import { ConfigError, parseConfigText } from '../../ts/config/load.js';
import { SCHEMA } from '../../ts/config/schema.js';
import { AddressError, formatHostPort, parseHostPort } from '../../ts/db/address.js';
import type { PyRef } from '../../ts/python/native.js';
import { runCli } from '../helpers/cli.js';
import {
  RELIABILITY_FIXTURES,
  SERVER_ARGS,
  SUITES,
  casesOf,
  existingDatabases,
  jsonLines,
  parseJUnit,
} from './util.js';

// ---- the value converter -------------------------------------------------------

/** Every value kind that crosses JS → Python → JS unchanged. */
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }),
  fc.double(), // NaN, ±Infinity, -0, subnormals
  fc.bigInt().filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)),
  fc.bigInt({ min: 2n ** 63n - 2n, max: 2n ** 64n + 2n }), // the int64 boundary
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // any valid code point, NUL included
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);
const { value: nested } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 6 }),
  object: fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('value'), { maxKeys: 6 }),
}));

/** What the converter promises to give back for a value it was given. */
function expected(v: unknown): unknown {
  if (typeof v === 'bigint' && v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v); // a Python int in the safe range comes back as a number
  if (Array.isArray(v)) return v.map(expected);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x)]));
  return v;
}

/** Exact equality: -0 vs 0, NaN, bigint vs number, Buffer contents, own keys. */
function sameValue(a: unknown, b: unknown, at = '$'): void {
  if (Buffer.isBuffer(b)) {
    assert.ok(Buffer.isBuffer(a), `${at}: expected a Buffer`);
    assert.ok(b.equals(a as Buffer), `${at}: bytes differ`);
    return;
  }
  if (Array.isArray(b)) {
    assert.ok(Array.isArray(a), `${at}: expected an array`);
    assert.equal(a.length, b.length, `${at}: length`);
    b.forEach((x, i) => sameValue((a as unknown[])[i], x, `${at}[${i}]`));
    return;
  }
  if (b !== null && typeof b === 'object') {
    assert.ok(a !== null && typeof a === 'object' && !Array.isArray(a), `${at}: expected an object`);
    assert.deepEqual(Object.keys(a as object).sort(), Object.keys(b).sort(), `${at}: keys`);
    for (const [k, x] of Object.entries(b)) sameValue((a as Record<string, unknown>)[k], x, `${at}.${k}`);
    return;
  }
  assert.ok(Object.is(a, b), `${at}: ${String(a)} (${typeof a}) is not ${String(b)} (${typeof b})`);
}

describe('reliability: bad input', function () {
  this.timeout(60_000);

  describe('the JS ⇄ Python value converter (property)', () => {
    let rt: PythonRuntime;
    let mod: PyRef;
    before(() => {
      rt = PythonRuntime.get();
      rt.addImportPath(path.join(RELIABILITY_FIXTURES, 'py'));
      mod = rt.importModule('rig_identity');
    });

    it('random nested values of every supported type round-trip exactly', () => {
      fc.assert(
        fc.property(nested, (v) => {
          sameValue(rt.call(mod, 'identity', [v]), expected(v));
        }),
        { numRuns: 2000 },
      );
    });

    it('the same values round-trip through a lane (the path handler results take)', async () => {
      const lane = rt.acquireLane();
      try {
        await fc.assert(
          fc.asyncProperty(nested, async (v) => {
            sameValue(await rt.submit(lane, mod, 'identity', [v]), expected(v));
          }),
          { numRuns: 300 },
        );
      } finally {
        rt.releaseLane(lane);
      }
    });

    it('documented conversions: integer-valued doubles are numbers, -0 stays a double, undefined → null', () => {
      const types = (v: unknown) => rt.call(mod, 'type_names', [v]);
      assert.equal(types(3), 'int');
      assert.equal(types(3.5), 'float');
      assert.equal(types(-0), 'float');
      assert.ok(Object.is(rt.call(mod, 'identity', [-0]), -0));
      assert.equal(types(2 ** 53), 'float', 'beyond the safe range a number stays a float');
      assert.equal(types(5n), 'int');
      assert.equal(rt.call(mod, 'identity', [5n]), 5);
      assert.equal(types(undefined), 'NoneType');
      assert.equal(rt.call(mod, 'identity', [undefined]), null);
      assert.deepEqual(rt.call(mod, 'identity', [[1, undefined]]), [1, null]);
      assert.equal(types(new Uint8Array([1])), 'bytes');
      assert.equal(rt.call(mod, 'identity', ['\ud800']), '\ufffd', 'a lone surrogate is not valid Unicode');
    });

    it('unsupported values are refused with a reason, never a crash: Date, functions, symbols, cycles, > 1000 levels', () => {
      assert.throws(() => rt.call(mod, 'identity', [new Date(0)]), /cannot pass a JS Date to Python/);
      assert.throws(() => rt.call(mod, 'identity', [() => 1]), /function or symbol/);
      assert.throws(() => rt.call(mod, 'identity', [Symbol('s')]), /function or symbol/);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.throws(() => rt.call(mod, 'identity', [cyclic]), /nested more than 1000 levels/);
      let deep: unknown = [];
      for (let i = 0; i < 100_000; i++) deep = [deep];
      assert.throws(() => rt.call(mod, 'identity', [deep]), /nested more than 1000 levels/);
      // and from Python
      assert.throws(() => rt.call(mod, 'cyclic_list', []), /RecursionError: cannot pass to JavaScript/);
      assert.throws(() => rt.call(mod, 'deep_list', [100_000]), /RecursionError/);
      let ok: unknown = 'x';
      for (let i = 0; i < 900; i++) ok = [ok];
      assert.deepEqual(rt.call(mod, 'identity', [ok]), ok, '900 levels are fine');
    });
  });

  // ---- the config loader -------------------------------------------------------

  describe('the config loader (property)', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const keyOf = (section: string) =>
      fc.oneof(fc.constantFrom(...Object.keys(SCHEMA[section] ?? {}), 'x'), fc.string());
    const section = fc.oneof(fc.constantFrom(...Object.keys(SCHEMA)), fc.string({ maxLength: 10 }));
    const doc = fc.oneof(
      json,
      fc.dictionary(section, fc.oneof(json, fc.dictionary(fc.string({ maxLength: 12 }), json))),
      section.chain((s) => fc.dictionary(fc.constant(s), fc.dictionary(keyOf(s), json))),
    );
    const formats = ['json', 'yaml', 'toml'] as const;
    function serialise(d: unknown, format: (typeof formats)[number]): string | undefined {
      try {
        if (format === 'json') return JSON.stringify(d);
        if (format === 'yaml') return yamlStringify(d);
        return tomlStringify(d as Record<string, unknown>);
      } catch {
        return undefined; // not representable (e.g. TOML needs a table at the top, no nulls)
      }
    }

    it('random documents in every format never crash it: a config or a ConfigError with file:line', () => {
      fc.assert(
        fc.property(doc, fc.constantFrom(...formats), (d, format) => {
          const text = serialise(d, format);
          if (text === undefined) return;
          try {
            const cfg = parseConfigText(text, format, `c.${format}`);
            assert.equal(typeof cfg, 'object');
          } catch (e) {
            assert.ok(e instanceof ConfigError, `${format}: ${String(e)}\n${text}`);
            for (const p of e.problems) assert.match(p, new RegExp(`^c\\.${format}:\\d+: `));
          }
        }),
        { numRuns: 1500 },
      );
    });

    it('random text never crashes it', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom(...formats),
          (text, format) => {
            try {
              parseConfigText(text, format, 'c');
            } catch (e) {
              assert.ok(e instanceof ConfigError, String(e));
            }
          },
        ),
        { numRuns: 1500 },
      );
    });

    it('a wrong value for a known key: the error names section.key (and never echoes a password)', () => {
      const known = Object.entries(SCHEMA).flatMap(([s, keys]) =>
        Object.keys(keys).map((k) => [s, k] as const),
      );
      fc.assert(
        fc.property(fc.constantFrom(...known), fc.constantFrom(...formats), json, ([s, k], format, v) => {
          const text = serialise({ [s]: { [k]: v } }, format);
          if (text === undefined) return;
          try {
            parseConfigText(text, format, 'c');
          } catch (e) {
            assert.ok(e instanceof ConfigError);
            assert.equal(e.problems.length, 1, e.message);
            assert.ok(e.message.includes(`"${s}.${k}"`), e.message);
            if (k === 'password' && typeof v === 'string' && v.length > 3) assert.ok(!e.message.includes(v));
          }
        }),
        { numRuns: 1500 },
      );
    });
  });

  // ---- host:port ---------------------------------------------------------------

  describe('host:port parsing (property)', () => {
    const host = fc.oneof(fc.domain(), fc.ipV4());
    const port = fc.integer({ min: 1, max: 65535 });

    it('parse(format(host, port)) gives them back, IPv6 included', () => {
      fc.assert(
        fc.property(fc.oneof(host, fc.ipV6()), port, (h, p) => {
          const text = formatHostPort(h, p);
          assert.deepEqual(parseHostPort(text), { host: h, port: p });
          assert.deepEqual(parseHostPort(text.replace(/:\d+$/, ''), 7), { host: h, port: 7 });
        }),
        { numRuns: 2000 },
      );
    });

    it('any string: a host and a port in 1-65535, or an error saying what is wrong', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 40 }),
            fc
              .tuple(fc.oneof(host, fc.string()), fc.oneof(fc.string(), fc.integer().map(String)))
              .map(([h, p]) => `${h}:${p}`),
          ),
          (text) => {
            let r: { host: string; port: number };
            try {
              r = parseHostPort(text);
            } catch (e) {
              assert.ok(e instanceof AddressError, String(e));
              assert.match((e as Error).message, /host|port|address|IPv6/i);
              return;
            }
            assert.ok(r.host.length > 0, JSON.stringify(text));
            assert.ok(Number.isInteger(r.port) && r.port >= 1 && r.port <= 65535, JSON.stringify(r));
          },
        ),
        { numRuns: 3000 },
      );
    });
  });

  // ---- half-written handler files --------------------------------------------

  it('handler files with syntax/import errors, bad methods, wrong return types, cycles, huge output: each a precise failure', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-bad-'));
    try {
      const json = path.join(tmp, 'bad.jsonl');
      const junit = path.join(tmp, 'bad.xml');
      const r = await runCli(
        [
          'run',
          ...SERVER_ARGS,
          '--suites-dir',
          SUITES,
          'bad_handlers',
          '--timeout',
          '20',
          '--json',
          json,
          '--junit',
          junit,
        ],
        { timeoutMs: 55_000 },
      );
      assert.equal(r.code, 1, r.stderr.slice(0, 2000));
      const c = casesOf(json);
      const F = 'test_bad_handlers.py';
      const failed = (name: string, re: RegExp, where?: RegExp) => {
        const k = c.get(name);
        assert.equal(k?.status, 'failed', `${name}: ${k?.message}`);
        assert.match(k!.message ?? '', re, name);
        if (where) assert.match(k!.where ?? '', where, name);
      };
      failed(
        'test_syntax_error',
        /^cannot import test_syntax_error\.py: SyntaxError: '\(' was never closed/,
        /test_syntax_error\.py:6$/,
      );
      failed(
        'test_import_error',
        /ImportError: cannot import name 'no_such_name' from 'test_rig'/,
        /test_import_error\.py:2$/,
      );
      failed(
        'test_raises_at_import',
        /RuntimeError: module-level failure on purpose/,
        /test_raises_at_import\.py:3$/,
      );
      failed(
        'ReturnsIntHandler',
        new RegExp(`ReturnsIntHandler\\.execute \\(.*${F}:8\\) returned number 42, not a state string`),
      );
      for (const n of ['ReturnsBytesHandler', 'ReturnsListHandler', 'ReturnsStateClassHandler'])
        failed(n, new RegExp(`${n}\\.execute \\(.*${F}:\\d+\\) returned .*, not a state string`));
      failed('ExecuteNotCallableHandler', /TypeError: 'NoneType' object is not callable/);
      failed(
        'MissingMethodOnContextHandler',
        /AttributeError: 'PyConnection' object has no attribute 'execute_querry'/,
        new RegExp(`${F}:33$`),
      );
      failed(
        'InitNeedsArgumentHandler',
        /__init__\(\) missing 1 required positional argument: 'required_thing'/,
      );
      failed('EnterRaisesHandler', /EnterRaisesHandler\.enter raised KeyError: 'enter failed'/);
      failed('ExitRaisesHandler', /ExitRaisesHandler\.exit raised ZeroDivisionError: exit failed/);
      failed('RaisesBaseExceptionHandler', /raised SystemExit: 3/);
      failed('RaisesKeyboardInterruptHandler', /raised KeyboardInterrupt/);
      failed(
        'ReturnsCyclicHandler',
        /RecursionError: cannot pass to JavaScript: value nested more than 1000 levels/,
      );
      assert.equal(c.get('CyclicCustomDataHandler')?.status, 'passed');
      const huge = c.get('HugeOutputHandler')!;
      assert.equal(huge.status, 'passed', huge.message ?? '');
      assert.equal(c.get('ZzStillRunsHandler')?.status, 'passed');
      // of the 60 MB printed, the first and last 4 MB are kept (see CaseOutput), the 10 MB line cut
      // to 1 MB; a line says what was dropped; the reports stay parseable
      const bytes = huge.output.reduce((n, l) => n + l.text.length, 0);
      assert.ok(bytes >= 6 << 20 && bytes <= 8 << 20, `${bytes} bytes of output`);
      assert.ok(
        huge.output.some((l) =>
          /^test-rig: \d+ lines \(\d+ characters\) of output dropped here/.test(l.text),
        ),
      );
      assert.match(huge.output[huge.output.length - 1].text, /^y+ … \[9437184 more characters cut\]$/);
      assert.equal(jsonLines(json).pop()?.event, 'summary');
      assert.equal(parseJUnit(junit).attrs.tests, String(c.size));
      assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
