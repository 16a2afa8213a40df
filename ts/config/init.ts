// Rendering a commented starter configuration file (`test-rig config init`).
import { DEFAULTS } from './schema.js';
import type { ConfigFormat } from './load.js';

export interface InitValues {
  host?: string;
  username?: string;
  password?: string;
  database?: string;
  logLevel?: string;
}

const q = (s: string) => JSON.stringify(s);

export function renderConfig(format: ConfigFormat, v: InitValues = {}): string {
  const host = v.host ?? DEFAULTS.database.host;
  const username = v.username ?? DEFAULTS.database.username;
  const level = v.logLevel ?? DEFAULTS.logging.level;
  if (format === 'json') {
    const database: Record<string, unknown> = { host, username };
    if (v.password !== undefined) database.password = v.password;
    if (v.database !== undefined) database.database = v.database;
    database.pool_size = DEFAULTS.database.pool_size;
    database.timeout_secs = DEFAULTS.database.timeout_secs;
    return (
      JSON.stringify(
        {
          database,
          logging: { level, format: DEFAULTS.logging.format, console: DEFAULTS.logging.console },
          test: { rows: DEFAULTS.test.rows, timeout_secs: DEFAULTS.test.timeout_secs, verbose: false },
          monitor: {
            interval: DEFAULTS.monitor.interval,
            duration: DEFAULTS.monitor.duration,
            show_details: DEFAULTS.monitor.show_details,
          },
        },
        null,
        2,
      ) + '\n'
    );
  }
  if (format === 'toml') {
    return `# test-rig configuration (TOML). Precedence: command-line flag > environment
# (TIDB_HOST, TIDB_PORT, TIDB_USER, TIDB_PASSWORD, TIDB_DATABASE) > this file > default.
# Reference: docs/configuration.md

[database]
# host:port of the TiDB / MySQL-compatible server
host = ${q(host)}
username = ${q(username)}
${v.password !== undefined ? `password = ${q(v.password)}  # keep this file private: chmod 600` : `# password = "..."   # better: TIDB_PASSWORD or the interactive prompt`}
${v.database !== undefined ? `database = ${q(v.database)}` : `# database = "test"`}
# connections in a pool
pool_size = ${DEFAULTS.database.pool_size}
# connect timeout, seconds
timeout_secs = ${DEFAULTS.database.timeout_secs}
# ssl_mode = "disabled"   # disabled | preferred | required | verify_ca | verify_identity
# ssl_ca = "/path/ca.pem"
# ssl_cert = "/path/client-cert.pem"
# ssl_key = "/path/client-key.pem"

[logging]
# trace | debug | info | warn | error
level = ${q(level)}
# text | json
format = "text"
# file = "logs/test-rig.log"
console = true

[test]
rows = ${DEFAULTS.test.rows}
timeout_secs = ${DEFAULTS.test.timeout_secs}
verbose = false
# lock_wait_timeout_secs = 5   # bound row/metadata lock waits of test-rig run cases (server default: 50 s / a day)

# free-form parameters for suites
[test.params]

[monitor]
# seconds between polls
interval = ${DEFAULTS.monitor.interval}
# seconds to monitor
duration = ${DEFAULTS.monitor.duration}
show_details = true
`;
  }
  return `# test-rig configuration (YAML). Precedence: command-line flag > environment
# (TIDB_HOST, TIDB_PORT, TIDB_USER, TIDB_PASSWORD, TIDB_DATABASE) > this file > default.
# Reference: docs/configuration.md

database:
  # host:port of the TiDB / MySQL-compatible server
  host: ${q(host)}
  username: ${q(username)}
  ${v.password !== undefined ? `password: ${q(v.password)}  # keep this file private: chmod 600` : `# password: "..."   # better: TIDB_PASSWORD or the interactive prompt`}
  ${v.database !== undefined ? `database: ${q(v.database)}` : `# database: test`}
  # connections in a pool
  pool_size: ${DEFAULTS.database.pool_size}
  # connect timeout, seconds
  timeout_secs: ${DEFAULTS.database.timeout_secs}
  # ssl_mode: disabled   # disabled | preferred | required | verify_ca | verify_identity
  # ssl_ca: /path/ca.pem

logging:
  # trace | debug | info | warn | error
  level: ${q(level)}
  # text | json
  format: text
  # file: logs/test-rig.log
  console: true

test:
  rows: ${DEFAULTS.test.rows}
  timeout_secs: ${DEFAULTS.test.timeout_secs}
  verbose: false
  # lock_wait_timeout_secs: 5   # bound row/metadata lock waits of test-rig run cases (server default: 50 s / a day)
  # params: {}   # free-form parameters for suites

monitor:
  # seconds between polls
  interval: ${DEFAULTS.monitor.interval}
  # seconds to monitor
  duration: ${DEFAULTS.monitor.duration}
  show_details: true
`;
}

/** The hint printed after writing a JSON file (JSON has no comments). */
export const JSON_HINT =
  'JSON has no comments: see docs/configuration.md for every key; prefer TIDB_PASSWORD or the prompt over storing a password.';
