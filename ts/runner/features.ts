// Named server features a case may require, by server kind and version, and
// the evaluation of a case's `requires` against the server it runs on.
import { versionAtLeast, type ServerInfo, type ServerKind } from '../db/server.js';

/** Minimum version per server kind; `false` = not available there; `true` = any version. */
type Support = Partial<Record<Exclude<ServerKind, 'unknown'>, string | boolean>> & { note?: string };

export const FEATURES: Record<string, Support> = {
  savepoint: { mysql: true, mariadb: true, tidb: '6.2' },
  check_constraint: { mysql: '8.0.16', mariadb: '10.2', tidb: '7.2' },
  pessimistic_txn: { mysql: true, mariadb: true, tidb: '3.0' },
  import_into: { mysql: false, mariadb: false, tidb: '7.2' },
  read_uncommitted: { mysql: true, mariadb: true, tidb: false },
  serializable: { mysql: true, mariadb: true, tidb: false },
  stored_procedures: { mysql: true, mariadb: true, tidb: false },
  triggers: { mysql: true, mariadb: true, tidb: false },
  events: { mysql: true, mariadb: true, tidb: false },
  roles: { mysql: '8.0', mariadb: '10.0.5', tidb: '3.0' },
  temporary_tables: { mysql: true, mariadb: true, tidb: '5.3' },
  window_functions: { mysql: '8.0', mariadb: '10.2', tidb: '3.0' },
  cte: { mysql: '8.0', mariadb: '10.2.1', tidb: '5.1' },
  recursive_cte: { mysql: '8.0', mariadb: '10.2.2', tidb: '5.1' },
  invisible_indexes: {
    mysql: '8.0',
    mariadb: false,
    tidb: '5.0',
    note: 'MariaDB has IGNORED indexes (10.6+) instead: require "ignored_indexes"',
  },
  ignored_indexes: { mysql: false, mariadb: '10.6', tidb: false },
  json_type: { mysql: '5.7.8', mariadb: '10.2.7', tidb: '2.1' },
  sequences: { mysql: false, mariadb: '10.3', tidb: '4.0' },
  foreign_keys: { mysql: true, mariadb: true, tidb: '6.6' },
  fulltext: { mysql: true, mariadb: true, tidb: false },
  spatial: { mysql: true, mariadb: true, tidb: false },
  descending_indexes: { mysql: '8.0', mariadb: '10.8', tidb: false },
  load_data_local: { mysql: true, mariadb: true, tidb: true },
};

/** Why `feature` is unavailable on `server`, or undefined if it is available. */
export function featureUnavailable(feature: string, server: ServerInfo): string | undefined {
  const key = feature
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  const support = FEATURES[key];
  if (!support) return `unknown feature '${feature}' (known: ${Object.keys(FEATURES).join(', ')})`;
  if (server.kind === 'unknown') return `feature '${key}' needs a known server, got '${server.raw}'`;
  const s = support[server.kind];
  const note = support.note && server.kind === 'mariadb' ? `; ${support.note}` : '';
  if (s === undefined || s === false) return `feature '${key}' is not available on ${server.kind}${note}`;
  if (s === true || versionAtLeast(server, s)) return undefined;
  return `feature '${key}' needs ${server.kind} >= ${s}, server is ${server.version}`;
}

/**
 * The skip reason for a case's `requires` on `server`, or undefined if every
 * requirement is met. Accepts a feature name, a list of them, or a dict with
 * `server` (kind or list of kinds), `min_version`, `max_version`, `feature`/`features`.
 * Throws on a malformed `requires` (a usage error in the test file).
 */
export function unmetRequirement(requires: unknown, server: ServerInfo): string | undefined {
  if (requires === null || requires === undefined) return undefined;
  if (typeof requires === 'string') return featureUnavailable(requires, server);
  if (Array.isArray(requires)) {
    for (const r of requires) {
      const why = unmetRequirement(r, server);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof requires !== 'object')
    throw new Error(`requires must be a feature name, a list or a dict, got ${String(requires)}`);
  const r = requires as Record<string, unknown>;
  const known = new Set(['server', 'min_version', 'max_version', 'feature', 'features']);
  const extra = Object.keys(r).filter((k) => !known.has(k));
  if (extra.length)
    throw new Error(`requires has unknown key(s) ${extra.join(', ')} (known: ${[...known].join(', ')})`);
  if (r.server !== undefined && r.server !== null) {
    const kinds = (Array.isArray(r.server) ? r.server : [r.server]).map((k) => String(k).toLowerCase());
    if (!kinds.includes(server.kind))
      return `requires server ${kinds.join(' or ')}, server is ${server.kind} ${server.version}`;
  }
  if (
    r.min_version !== undefined &&
    r.min_version !== null &&
    !versionAtLeast(server, String(r.min_version))
  ) {
    return `requires version >= ${String(r.min_version)}, server is ${server.kind} ${server.version}`;
  }
  if (r.max_version !== undefined && r.max_version !== null) {
    const max = String(r.max_version);
    if (!versionAtLeast(max, server.version)) {
      return `requires version <= ${max}, server is ${server.kind} ${server.version}`;
    }
  }
  for (const f of [r.feature, r.features]) {
    if (f === undefined || f === null) continue;
    const why = unmetRequirement(f, server);
    if (why) return why;
  }
  return undefined;
}
