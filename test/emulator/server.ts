// A TiDB stand-in for tests: a MySQL-protocol server (mysql2's server API) in front of
// the local MariaDB. Ordinary statements go to MariaDB over one backend connection per
// client; VERSION(), IMPORT INTO, SHOW [RAW] IMPORT JOB(S) and CANCEL IMPORT JOB are
// answered here, with import jobs loaded into MariaDB in the background.
import { stat } from 'node:fs/promises';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import mysqlCb from 'mysql2';
import mysql from 'mysql2/promise';
import { defaultCsvOptions, type CsvOptions } from './csv.js';
import {
  JobRegistry,
  LAYOUT_COLUMNS,
  jobRow,
  quoteId,
  type EmulatorSettings,
  type ImportJob,
} from './jobs.js';
import {
  ColumnType,
  SERVER_STATUS_AUTOCOMMIT,
  errorPacket,
  okPacket,
  writeResultSet,
  type ColumnDef,
  type ServerConnection,
} from './protocol.js';
import { EmulatorSyntaxError, classify, type ImportSpec } from './statements.js';

export interface BackendOptions {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface EmulatorOptions extends Partial<EmulatorSettings> {
  /** Where MariaDB is; defaults to 127.0.0.1:3306 root with no password. */
  backend?: Partial<BackendOptions>;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** A running emulator; `settings` may be changed while it runs. */
export interface Emulator {
  readonly host: string;
  readonly port: number;
  readonly settings: EmulatorSettings;
  readonly registry: JobRegistry;
  close(): Promise<void>;
}

export const DEFAULT_SETTINGS: EmulatorSettings = {
  version: '8.0.11-TiDB-v7.5.1',
  layout: 13,
  rowsPerSecond: 0,
  chunkRows: 100,
  chunkDelayMs: 0,
  pendingMs: 0,
  validatingMs: 0,
  maxRunning: 16,
};

/** Server errors the emulator raises itself. TiDB's numbers where known (errno, SQLSTATE). */
class SqlError extends Error {
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

const KNOWN_OPTIONS = new Set([
  'skip_rows',
  'fields_terminated_by',
  'fields_enclosed_by',
  'fields_escaped_by',
  'fields_defined_null_by',
  'lines_terminated_by',
  'detached',
  'thread',
  'disk_quota',
  'max_write_speed',
  'checksum_table',
  'record_errors',
  'split_file',
  'group_key',
  'cloud_storage_uri',
  'disable_tikv_import_mode',
  'disable_precheck',
]);

const CAPABILITIES =
  0x1 | // LONG_PASSWORD
  0x4 | // LONG_FLAG
  0x8 | // CONNECT_WITH_DB
  0x200 | // PROTOCOL_41
  0x2000 | // TRANSACTIONS
  0x8000 | // SECURE_CONNECTION
  0x20000 | // MULTI_RESULTS
  0x80000; // PLUGIN_AUTH

type BackendConn = mysql.Connection;

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { backend: b, host = '127.0.0.1', port = 0, ...rest } = options;
  const backend: BackendOptions = {
    host: b?.host ?? process.env.TEST_RIG_TEST_HOST ?? '127.0.0.1',
    port: b?.port ?? Number(process.env.TEST_RIG_TEST_PORT ?? 3306),
    user: b?.user ?? process.env.TEST_RIG_TEST_USER ?? 'root',
    password: b?.password ?? process.env.TEST_RIG_TEST_PASSWORD ?? '',
  };
  const settings: EmulatorSettings = { ...DEFAULT_SETTINGS, ...rest };
  const openBackend = async (database: string | undefined, timeZone?: string): Promise<BackendConn> => {
    const c = await mysql.createConnection({ ...backend, database: database || undefined });
    if (timeZone) await c.query('SET time_zone = ?', [timeZone]);
    return c;
  };
  const registry = new JobRegistry(settings, (db, tz) => openBackend(db, tz));
  const tableIds = new Map<string, number>();
  const sockets = new Set<Socket>();
  let connectionIds = 0;

  const server = mysqlCb.createServer((raw) => {
    const conn = raw as unknown as ServerConnection;
    const socket = conn.stream as unknown as Socket;
    sockets.add(socket);
    // Replies are several small writes; without this, Nagle + delayed ACK add ~40 ms each.
    socket.setNoDelay(true);
    const session = new Session(conn, settings, registry, openBackend, tableIds);
    socket.on('close', () => {
      sockets.delete(socket);
      session.close();
    });
    socket.on('error', () => undefined);
    conn.serverHandshake({
      protocolVersion: 10,
      serverVersion: settings.version,
      connectionId: ++connectionIds,
      statusFlags: SERVER_STATUS_AUTOCOMMIT,
      characterSet: 45,
      capabilityFlags: CAPABILITIES,
      authCallback: (
        params: { user: string; database?: string },
        cb: (err: null, fail?: { message: string; code: number }) => void,
      ) => {
        session.user = params.user || 'root';
        session.open(params.database).then(
          () => {
            cb(null);
            resetSequence(conn);
          },
          (e: { errno?: number; message: string }) => cb(null, { message: e.message, code: e.errno ?? 1045 }),
        );
      },
    });
    // A client going away surfaces as an 'error' on the server-side connection.
    conn.on('error', () => undefined);
    conn.on('query', (sql: string) => session.enqueue(sql));
    conn.on('ping', () => {
      conn.writePacket(okPacket());
      resetSequence(conn);
    });
    // mysql2 routes COM_QUERY "SET ..." / "PREPARE ..." through 'stmt_prepare'; treat them as queries.
    conn.on('stmt_prepare', (sql: string) => {
      if (/^\s*(SET|PREPARE)\b/i.test(sql)) session.enqueue(sql);
      else {
        conn.writePacket(errorPacket(1295, 'HY000', 'The emulator does not support the binary protocol'));
        resetSequence(conn);
      }
    });
    conn.on('init_db', (db: string) => session.enqueue(`USE ${quoteId(db)}`));
  });

  const net = (server as unknown as { _server: NetServer })._server;
  await new Promise<void>((res, rej) => {
    net.once('error', rej);
    net.listen(port, host, () => res());
  });
  const actualPort = (net.address() as AddressInfo).port;

  return {
    host,
    port: actualPort,
    settings,
    registry,
    async close() {
      await new Promise<void>((r) => net.close(() => r()));
      for (const s of sockets) s.destroy();
      await registry.close();
    },
  };
}

/** One client's session: its backend connection, serialised statement queue and time zone cache. */
class Session {
  user = 'root';
  private backend: BackendConn | null = null;
  private queue: Promise<void> = Promise.resolve();
  private serverStatus = SERVER_STATUS_AUTOCOMMIT;
  private tzOffset: { seconds: number; at: number } | null = null;
  private closed = false;

  constructor(
    private readonly conn: ServerConnection,
    private readonly settings: EmulatorSettings,
    private readonly registry: JobRegistry,
    private readonly openBackend: (db: string | undefined, tz?: string) => Promise<BackendConn>,
    private readonly tableIds: Map<string, number>,
  ) {}

  async open(database: string | undefined): Promise<void> {
    this.backend = await this.openBackend(database);
    this.backend.on('error', () => this.conn.stream.destroy());
    if (this.closed) await this.backend.end();
  }

  close(): void {
    this.closed = true;
    const b = this.backend;
    this.backend = null;
    if (b) b.end().catch(() => b.destroy());
  }

  enqueue(sql: string): void {
    this.queue = this.queue.then(() => this.handle(sql)).catch(() => undefined);
  }

  private async handle(sql: string): Promise<void> {
    try {
      await this.respond(sql);
    } finally {
      resetSequence(this.conn);
    }
  }

  private async respond(sql: string): Promise<void> {
    const backend = this.backend;
    if (!backend || this.closed) return;
    try {
      let st;
      try {
        st = classify(sql);
      } catch (e) {
        if (e instanceof EmulatorSyntaxError) throw new SqlError(1064, '42000', e.message);
        throw e;
      }
      switch (st.kind) {
        case 'forward':
          return await this.forward(backend, sql);
        case 'version':
          return this.single(
            [{ name: 'VERSION()', columnType: ColumnType.VAR_STRING }],
            [this.settings.version],
          );
        case 'tidb_version':
          return this.single(
            [{ name: 'TIDB_VERSION()', columnType: ColumnType.VAR_STRING }],
            [this.tidbVersion()],
          );
        case 'show_jobs':
          return await this.showJobs([...this.registry.jobs.values()], st.raw);
        case 'show_job':
          return await this.showJobs([this.findJob(st.id)], st.raw);
        case 'cancel': {
          const job = this.findJob(st.id);
          if (job.ended) {
            throw new SqlError(
              8170,
              'HY000',
              `The current job status cannot perform the operation. need status running or pending, but got ${job.status}`,
            );
          }
          this.registry.cancel(job);
          return this.conn.writePacket(okPacket({ serverStatus: this.serverStatus }));
        }
        case 'import':
          return await this.importInto(backend, st.spec);
      }
    } catch (e) {
      const err = e as {
        errno?: number;
        sqlState?: string;
        sqlMessage?: string;
        message: string;
        fatal?: boolean;
      };
      this.conn.writePacket(
        errorPacket(err.errno ?? 1105, err.sqlState ?? 'HY000', err.sqlMessage ?? err.message),
      );
      if (err.fatal) this.conn.stream.destroy();
    }
  }

  private single(columns: ColumnDef[], row: (string | number | null)[]): void {
    writeResultSet(this.conn, columns, [row], this.serverStatus);
  }

  private tidbVersion(): string {
    const v = /-TiDB-(v[^\s]+)/.exec(this.settings.version)?.[1] ?? 'v7.5.1';
    return [
      `Release Version: ${v}`,
      'Edition: Community',
      'Git Commit Hash: 0000000000000000000000000000000000000000',
      `Git Branch: heads/refs/tags/${v}`,
      'UTC Build Time: 2024-01-01 00:00:00',
      'GoVersion: go1.21.6',
      'Race Enabled: false',
      'Check Table Before Drop: false',
      'Store: emulator',
    ].join('\n');
  }

  private findJob(id: number): ImportJob {
    const job = this.registry.jobs.get(id);
    if (!job) throw new SqlError(8171, 'HY000', `Job ID ${id} doesn't exist`);
    return job;
  }

  /** Forwards a statement and relays the result set, OK packet or error exactly. */
  private async forward(backend: BackendConn, sql: string): Promise<void> {
    const [result, fields] = (await backend.query({
      sql,
      rowsAsArray: true,
      typeCast: false,
    })) as unknown as [unknown, unknown];
    if (/time_zone/i.test(sql)) this.tzOffset = null;
    const multi =
      Array.isArray(fields) && fields.length > 0 && (Array.isArray(fields[0]) || fields[0] === undefined);
    const parts: [unknown, unknown][] = multi
      ? (result as unknown[]).map((r, i) => [r, (fields as unknown[])[i]])
      : [[result, fields]];
    parts.forEach(([r, f], i) => {
      const more = i < parts.length - 1 ? 0x0008 : 0;
      if (Array.isArray(f)) {
        const cols = (f as mysql.FieldPacket[]).map(toColumnDef);
        writeResultSet(this.conn, cols, r as Buffer[][], this.serverStatus | more);
      } else {
        const h = r as mysql.ResultSetHeader & { serverStatus?: number; warningStatus?: number };
        if (typeof h.serverStatus === 'number') this.serverStatus = h.serverStatus & ~0x0008;
        this.conn.writePacket(
          okPacket({
            affectedRows: h.affectedRows,
            insertId: h.insertId,
            serverStatus: this.serverStatus | more,
            warnings: h.warningStatus,
            info: h.info,
          }),
        );
      }
    });
  }

  /** The session's UTC offset, cached for a second (and dropped when time_zone is set). */
  private async offsetSeconds(): Promise<number> {
    const now = Date.now();
    if (this.tzOffset && now - this.tzOffset.at < 1000) return this.tzOffset.seconds;
    const [rows] = await this.backend!.query<mysql.RowDataPacket[]>(
      'SELECT TIME_TO_SEC(TIMEDIFF(NOW(), UTC_TIMESTAMP())) AS s',
    );
    this.tzOffset = { seconds: Number(rows[0].s), at: now };
    return this.tzOffset.seconds;
  }

  private async showJobs(jobs: ImportJob[], raw: boolean): Promise<void> {
    const layout = raw ? 'raw' : this.settings.layout;
    const off = await this.offsetSeconds();
    writeResultSet(
      this.conn,
      LAYOUT_COLUMNS[layout],
      jobs.map((j) => jobRow(j, layout, off)),
      this.serverStatus,
    );
  }

  /** IMPORT INTO: TiDB's prechecks, then a background job; blocks unless DETACHED. */
  private async importInto(backend: BackendConn, spec: ImportSpec): Promise<void> {
    const [[info]] = await backend.query<mysql.RowDataPacket[]>(
      'SELECT DATABASE() AS db, @@in_transaction AS tx, @@session.time_zone AS tz',
    );
    if (Number(info.tx) === 1) {
      throw new SqlError(8173, 'HY000', 'PreCheck failed: cannot run IMPORT INTO in explicit transaction');
    }
    const schema = spec.schema ?? (info.db as string | null);
    if (!schema) throw new SqlError(1046, '3D000', 'No database selected');
    const opts = spec.options;
    for (const k of opts.keys()) {
      if (!KNOWN_OPTIONS.has(k)) throw new SqlError(8163, 'HY000', `Unknown option ${k}`);
    }
    const csv: CsvOptions = defaultCsvOptions(spec.format);
    const strOpt = (k: string): string | undefined => {
      const v = opts.get(k);
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new SqlError(8164, 'HY000', `Invalid option value for ${k}`);
      return v;
    };
    csv.fieldsTerminatedBy = strOpt('fields_terminated_by') ?? csv.fieldsTerminatedBy;
    csv.fieldsEnclosedBy = strOpt('fields_enclosed_by') ?? csv.fieldsEnclosedBy;
    csv.fieldsEscapedBy = strOpt('fields_escaped_by') ?? csv.fieldsEscapedBy;
    csv.linesTerminatedBy = strOpt('lines_terminated_by') ?? csv.linesTerminatedBy;
    csv.fieldsDefinedNullBy = strOpt('fields_defined_null_by') ?? csv.fieldsDefinedNullBy;
    if (!csv.fieldsTerminatedBy)
      throw new SqlError(8164, 'HY000', 'Invalid option value for fields_terminated_by');
    const skip = opts.get('skip_rows') ?? 0;
    if (typeof skip !== 'number' || !Number.isInteger(skip) || skip < 0) {
      throw new SqlError(8164, 'HY000', 'Invalid option value for skip_rows');
    }
    const thread = opts.get('thread');
    if (thread !== undefined && (typeof thread !== 'number' || thread < 1)) {
      throw new SqlError(8164, 'HY000', 'Invalid option value for thread');
    }
    const detachedOpt = opts.get('detached');
    if (detachedOpt !== undefined && detachedOpt !== true) {
      throw new SqlError(8164, 'HY000', 'Invalid option value for detached');
    }
    // Target table must exist and be empty (TiDB precheck).
    const tbl = `${quoteId(schema)}.${quoteId(spec.table)}`;
    const [nonEmpty] = await backend.query<mysql.RowDataPacket[]>(`SELECT 1 FROM ${tbl} LIMIT 1`);
    if (nonEmpty.length > 0) throw new SqlError(8173, 'HY000', 'PreCheck failed: target table is not empty');
    let columns = spec.columns;
    if (!columns) {
      const [cols] = await backend.query<mysql.RowDataPacket[]>(
        'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [schema, spec.table],
      );
      columns = cols.map((r) => String(r.c));
    }
    const file = resolvePath(spec.file);
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      throw new SqlError(
        8160,
        'HY000',
        `Failed to read source files. Reason: no file matched the path '${spec.file}'`,
      );
    }
    const off = await this.offsetSeconds();
    const key = `${schema}.${spec.table}`;
    if (!this.tableIds.has(key)) this.tableIds.set(key, 100 + this.tableIds.size * 2);
    const job = this.registry.create({
      schema,
      table: spec.table,
      tableId: this.tableIds.get(key)!,
      columns,
      file,
      fileSize: size,
      csv,
      skipRows: skip,
      createdBy: `${this.user}@%`,
      groupKey: strOpt('group_key') ?? '',
      timeZone: String(info.tz),
    });
    const layout = this.settings.layout;
    if (detachedOpt === true) {
      // Rendered before the loader gets a turn, so the row says pending as TiDB's does.
      return writeResultSet(this.conn, LAYOUT_COLUMNS[layout], [jobRow(job, layout, off)], this.serverStatus);
    }
    await job.done;
    if (job.status !== 'finished')
      throw new SqlError(1105, 'HY000', job.resultMessage || `job ${job.status}`);
    await this.showJobs([job], false);
  }
}

/**
 * mysql2's server side never resets its packet counter between commands (the handshake
 * command stays current), so each reply would carry a growing sequence id. Resetting it
 * after every reply makes the next command (sequence 0) match and its reply start at 1.
 */
function resetSequence(conn: ServerConnection): void {
  (conn as unknown as { sequenceId: number }).sequenceId = 0;
}

function toColumnDef(f: mysql.FieldPacket): ColumnDef {
  const x = f as mysql.FieldPacket & { columnType?: number; type?: number; characterSet?: number };
  return {
    name: f.name,
    schema: f.schema ?? f.db,
    table: f.table,
    orgTable: f.orgTable,
    orgName: f.orgName,
    columnType: x.columnType ?? x.type ?? ColumnType.VAR_STRING,
    characterSet: x.characterSet,
    columnLength: f.columnLength,
    flags: typeof f.flags === 'number' ? f.flags : undefined,
    decimals: f.decimals,
  };
}
