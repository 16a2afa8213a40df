// TLS: a throwaway MariaDB configured with certificates generated here by
// openssl; --ssl-mode VERIFY_CA / VERIFY_IDENTITY accept the right CA and host
// name and refuse a wrong CA or a mismatched name; REQUIRED refuses a server
// without TLS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalServer, type LocalServer } from '../../ts/local-server/index.js';
import { runCli } from '../helpers/cli.js';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA, a server certificate for DNS:localhost only (not 127.0.0.1) signed by it, and an unrelated CA. */
function makeCerts(dir: string): void {
  const ca = (name: string) =>
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-subj',
        `/CN=test-rig ${name}`,
      ],
      dir,
    );
  ca('ca');
  ca('wrong-ca');
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ],
    dir,
  );
  // the server may run as the mysql user
  fs.chmodSync(dir, 0o755);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
}

describe('reliability: TLS modes against a TLS-enabled local MariaDB', function () {
  this.timeout(60_000);
  let server: LocalServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-tls-'));
  const file = (f: string) => path.join(dir, f);

  before(async () => {
    makeCerts(dir);
    server = await startLocalServer({
      handleSignals: false,
      extraArgs: [
        `--ssl-ca=${file('ca.pem')}`,
        `--ssl-cert=${file('server.pem')}`,
        `--ssl-key=${file('server.key')}`,
      ],
    });
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = (host: string, ...tls: string[]) =>
    runCli(['connect', '-H', `${host}:${server.port}`, '-u', 'root', '--password=', '--json', ...tls], {
      timeoutMs: 30_000,
    });
  const ok = (r: { code: number | null; stdout: string; stderr: string }) =>
    assert.equal(r.code, 0, `expected to connect: ${r.stdout}${r.stderr}`);
  const refused = (r: { code: number | null; stdout: string; stderr: string }, re: RegExp) => {
    assert.equal(r.code, 1, `expected a refusal: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, re);
  };

  it('the server really speaks TLS (REQUIRED gets a TLS session)', async () => {
    const r = await connect('127.0.0.1', '--ssl-mode', 'required');
    ok(r);
  });

  it('VERIFY_CA: the right CA connects (host name not checked); a wrong CA is refused', async () => {
    ok(await connect('127.0.0.1', '--ssl-mode', 'verify_ca', '--ssl-ca', file('ca.pem')));
    refused(
      await connect('127.0.0.1', '--ssl-mode', 'verify_ca', '--ssl-ca', file('wrong-ca.pem')),
      /self[- ]signed|unable to verify|certificate/i,
    );
    // the default with only --ssl-ca is VERIFY_CA
    refused(await connect('127.0.0.1', '--ssl-ca', file('wrong-ca.pem')), /certificate/i);
  });

  it('VERIFY_IDENTITY: the right CA and host name connect; a wrong CA or a name not in the certificate is refused', async () => {
    ok(await connect('localhost', '--ssl-mode', 'verify_identity', '--ssl-ca', file('ca.pem')));
    refused(
      await connect('localhost', '--ssl-mode', 'verify_identity', '--ssl-ca', file('wrong-ca.pem')),
      /certificate/i,
    );
    // the certificate names DNS:localhost only: 127.0.0.1 does not match it
    refused(
      await connect('127.0.0.1', '--ssl-mode', 'verify_identity', '--ssl-ca', file('ca.pem')),
      /127\.0\.0\.1|altnames|host ?name|identity/i,
    );
  });

  it('REQUIRED refuses a server without TLS', async () => {
    const plain = await startLocalServer({ handleSignals: false });
    try {
      const r = await runCli(
        ['connect', '-H', `127.0.0.1:${plain.port}`, '-u', 'root', '--password=', '--ssl-mode', 'required'],
        { timeoutMs: 30_000 },
      );
      refused(r, /secure connection|SSL|TLS/i);
      ok(await runCli(['connect', '-H', `127.0.0.1:${plain.port}`, '-u', 'root', '--password=']));
    } finally {
      await plain.stop();
    }
  });
});
