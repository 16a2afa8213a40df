import assert from 'node:assert/strict';
import { formatHostPort, parseHostPort } from '../../ts/db/address.js';
import { detectServer, versionAtLeast } from '../../ts/db/server.js';

describe('parseHostPort', () => {
  it('parses host, IPv4 and bracketed IPv6 forms', () => {
    assert.deepEqual(parseHostPort('localhost:4000'), { host: 'localhost', port: 4000 });
    assert.deepEqual(parseHostPort('10.0.0.1:3306'), { host: '10.0.0.1', port: 3306 });
    assert.deepEqual(parseHostPort('[::1]:4000'), { host: '::1', port: 4000 });
    assert.deepEqual(parseHostPort('[fe80::1%eth0]:4001'), { host: 'fe80::1%eth0', port: 4001 });
    assert.deepEqual(parseHostPort('[::1]'), { host: '::1', port: 4000 });
    assert.deepEqual(parseHostPort('tidb.example'), { host: 'tidb.example', port: 4000 });
    assert.deepEqual(parseHostPort(' db:1 '), { host: 'db', port: 1 });
  });

  it('a bare IPv6 address is an address with the default port, with or without surrounding spaces', () => {
    assert.deepEqual(parseHostPort('::1'), { host: '::1', port: 4000 });
    assert.deepEqual(parseHostPort(' ::1 ', 3306), { host: '::1', port: 3306 });
    assert.deepEqual(parseHostPort('\t[::1]:5 '), { host: '::1', port: 5 });
    assert.deepEqual(parseHostPort('fe80::1%eth0'), { host: 'fe80::1%eth0', port: 4000 });
    // not IPv6 without the last group: the address as a whole, never a port
    assert.deepEqual(parseHostPort('::1:4000'), { host: '::1:4000', port: 4000 });
  });

  it('rejects malformed addresses with a reason', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      [':4000', /missing host/],
      ['host:', /not a number/],
      ['host:abc', /not a number/],
      ['host:0', /out of range/],
      ['host:65536', /out of range/],
      ['::1:33060', /brackets/],
      ['a:b:c', /brackets/],
      ['[::1', /missing '\]'/],
      ['[::1]4000', /expected ':port'/],
      ['[localhost]:4000', /only for IPv6/],
      ['a b:1', /whitespace/],
    ];
    for (const [text, why] of bad) {
      assert.throws(
        () => parseHostPort(text),
        (e: Error) => /invalid host:port/.test(e.message) && why.test(e.message),
        text,
      );
    }
  });

  it('formats IPv6 back with brackets', () => {
    assert.equal(formatHostPort('::1', 4000), '[::1]:4000');
    assert.equal(formatHostPort('h', 1), 'h:1');
  });
});

describe('detectServer', () => {
  it('recognises TiDB versions, including nightly and serverless suffixes', () => {
    assert.deepEqual(detectServer('8.0.11-TiDB-v7.5.1'), {
      kind: 'tidb',
      version: '7.5.1',
      raw: '8.0.11-TiDB-v7.5.1',
      mysqlCompat: '8.0.11',
    });
    assert.equal(detectServer('5.7.25-TiDB-v6.5.0').version, '6.5.0');
    assert.equal(detectServer('5.7.25-TiDB-v6.5.0').mysqlCompat, '5.7.25');
    const nightly = detectServer('8.0.11-TiDB-v9.0.0-beta.2.pre-1895-g5c9198e948');
    assert.equal(nightly.kind, 'tidb');
    assert.equal(nightly.version, '9.0.0');
    assert.equal(nightly.suffix, 'beta.2.pre-1895-g5c9198e948');
    const serverless = detectServer('8.0.11-TiDB-v8.5.3-serverless');
    assert.equal(serverless.version, '8.5.3');
    assert.equal(serverless.suffix, 'serverless');
  });

  it('recognises MariaDB and MySQL', () => {
    const maria = detectServer('10.11.19-MariaDB-0+deb12u1');
    assert.equal(maria.kind, 'mariadb');
    assert.equal(maria.version, '10.11.19');
    assert.equal(detectServer('5.5.5-10.6.12-MariaDB').version, '10.6.12');
    assert.deepEqual(detectServer('8.0.36'), { kind: 'mysql', version: '8.0.36', raw: '8.0.36' });
    assert.equal(detectServer('8.0.36-0ubuntu0.22.04.1').kind, 'mysql');
    assert.equal(detectServer('something else').kind, 'unknown');
  });

  it('compares versions numerically', () => {
    const tidb = detectServer('8.0.11-TiDB-v7.5.1');
    assert.ok(versionAtLeast(tidb, '6.2'));
    assert.ok(versionAtLeast(tidb, '7.5.1'));
    assert.ok(!versionAtLeast(tidb, '7.10'));
    assert.ok(!versionAtLeast(tidb, '8'));
    assert.ok(versionAtLeast('10.11.19', '10.6'));
    assert.ok(versionAtLeast(detectServer('8.0.11-TiDB-v9.0.0-beta.2.pre-1895-g5c9198e948'), '9.0'));
  });
});
