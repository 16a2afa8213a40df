// Where the tests find the real MySQL-compatible server they run against.
// CI starts MariaDB on 127.0.0.1:3306 (root, empty password); override with
// TEST_RIG_TEST_HOST / _PORT / _USER / _PASSWORD.
import mysql from 'mysql2/promise';

export const testServer = {
  host: process.env.TEST_RIG_TEST_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_RIG_TEST_PORT ?? 3306),
  user: process.env.TEST_RIG_TEST_USER ?? 'root',
  password: process.env.TEST_RIG_TEST_PASSWORD ?? '',
};

/** `host:port` as the CLI's -H flag takes it. */
export const testHostPort = `${testServer.host}:${testServer.port}`;

/** A raw mysql2 connection for test set-up and assertions, independent of the code under test. */
export async function rawConnection(database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ ...testServer, database, multipleStatements: true });
}

let counter = 0;
/** Creates a uniquely named scratch database; returns its name and a drop function. */
export async function scratchDatabase(prefix = 'trt'): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const conn = await rawConnection();
  await conn.query(`CREATE DATABASE \`${name}\``);
  await conn.end();
  return {
    name,
    drop: async () => {
      const c = await rawConnection();
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}
