import assert from 'node:assert/strict';
import { Connection } from '../../ts/db/connection.js';
import { RetryPresets } from '../../ts/db/retry.js';
import { ConnectError } from '../../ts/errors.js';
import { rawConnection, testServer } from '../helpers/db.js';

async function connectError(params: Parameters<typeof Connection.open>[0]): Promise<ConnectError> {
  try {
    const c = await Connection.open(params, { retry: RetryPresets.NONE });
    await c.close();
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected ConnectError, got ${String(err)}`);
    assert.equal(err.message.split('\n').length, 1, 'one line');
    return err;
  }
  return assert.fail('expected the connection to fail');
}

describe('connect errors', () => {
  const user = `trt_pw_${process.pid}`;
  const password = 'Right-Pa55word';

  before(async () => {
    const admin = await rawConnection();
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await admin.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'`);
    await admin.end();
  });
  after(async () => {
    const admin = await rawConnection();
    await admin.query(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
    await admin.end();
  });

  it('connects with the right password (the user really works)', async () => {
    const c = await Connection.open({ host: testServer.host, port: testServer.port, user, password });
    await c.close();
  });

  it('access denied: names the user, gives a hint and never the password', async () => {
    const wrong = 'Wrong-Pa55word-xyz';
    const err = await connectError({ host: testServer.host, port: testServer.port, user, password: wrong });
    assert.equal(err.errorClass, 'access_denied');
    assert.equal(err.errno, 1045);
    assert.equal(
      err.message,
      `cannot connect to ${testServer.host}:${testServer.port}: access denied for user '${user}' — check -u/--user and --password (or TIDB_PASSWORD)`,
    );
    assert.ok(!err.message.includes(wrong));
    assert.ok(!JSON.stringify(err).includes(wrong));
  });

  it('access denied for a user the server does not know (MariaDB: errno 1698)', async () => {
    const err = await connectError({
      host: testServer.host,
      port: testServer.port,
      user: `${user}_nobody`,
      password: 'Wrong-Pa55word-xyz',
    });
    assert.equal(err.errorClass, 'access_denied');
    assert.match(
      err.message,
      /: access denied for user 'trt_pw_\d+_nobody' — check -u\/--user and --password/,
    );
  });

  it('connection refused on a closed port', async () => {
    const err = await connectError({ host: '127.0.0.1', port: 1, user: 'root' });
    assert.equal(err.errorClass, 'connection_refused');
    assert.equal(
      err.message,
      'cannot connect to 127.0.0.1:1: connection refused — is the server running? check -H host:port',
    );
  });

  it('unknown database', async () => {
    const err = await connectError({ ...testServer, database: 'trt_missing_db' });
    assert.equal(err.errorClass, 'unknown_database');
    assert.match(
      err.message,
      /: unknown database 'trt_missing_db' — create it first or check -d\/--database$/,
    );
  });

  it('unknown host', async () => {
    const err = await connectError({ host: 'no-such-host.invalid', port: 4000, user: 'root' });
    assert.ok(['dns', 'timeout'].includes(err.errorClass), err.errorClass);
    if (err.errorClass === 'dns')
      assert.match(err.message, /unknown host 'no-such-host\.invalid' — check the host name/);
  });

  it('timeout or unreachable for a blackholed address', async () => {
    const err = await connectError({ host: '10.255.255.1', port: 4000, user: 'root', connectTimeoutMs: 300 });
    assert.ok(['timeout', 'host_unreachable'].includes(err.errorClass), err.errorClass);
    if (err.errorClass === 'timeout') {
      assert.equal(
        err.message,
        'cannot connect to 10.255.255.1:4000: timed out after 300 ms — is the host reachable and the port open? check -H host:port and firewalls',
      );
    }
  });
});
