// `test-rig multi`: the default chain on N connections at once, each possibly on
// another host, and a per-connection results table.
import { Command } from 'commander';
import { addSharedOptions, withRuntime, CliError } from './common.js';
import { explainFailure, machineConnectionOptions, type ChainResult } from './chain.js';
import type { Settings } from '../config/index.js';
import { formatHostPort, parseHostPort } from '../db/address.js';
import type { Logger } from '../log/logger.js';
import { Coordinator } from '../machine/coordinator.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export interface MultiRow extends ChainResult {
  connection: string;
}

export function multiCommand(): Command {
  const cmd = new Command('multi')
    .description('run the default chain on several connections concurrently and print a results table')
    .option('-n, --connection-count <n>', 'number of connections', '2');
  addSharedOptions(cmd, { multiHost: true });
  cmd.action(async (_o, command: Command) => {
    await withRuntime(command, async (rt) => {
      const raw = command.opts().connectionCount as string;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || n > 1000) {
        throw new CliError(`invalid --connection-count "${raw}": expected 1-1000`, EXIT_USAGE);
      }
      const { settings, log } = rt;
      const targets = Array.from({ length: n }, (_, i) => {
        const hp = rt.hosts[i % rt.hosts.length];
        const { host, port } = parseHostPort(hp, settings.port);
        return { name: `conn-${i + 1}`, host, port };
      });
      log.info(`running the default chain on ${n} connection(s) across ${rt.hosts.length} host(s)`);
      const rows = await runOnCoordinator(targets, settings, log);
      const failed = rows.filter((r) => !r.ok).length;
      if (settings.json) {
        log.out(
          JSON.stringify({
            ok: failed === 0,
            connections: rows.map((r) => ({
              connection: r.connection,
              host: formatHostPort(r.host, r.port),
              status: r.ok ? 'completed' : 'failed',
              kind: r.kind ?? null,
              version: r.version ?? null,
              ms: r.ms,
              error: r.error ?? null,
            })),
          }),
        );
      } else {
        const table = [
          ['connection', 'host', 'status', 'version', 'ms'],
          ...rows.map((r) => [
            r.connection,
            formatHostPort(r.host, r.port),
            r.ok ? 'completed' : 'failed',
            r.ok ? `${r.kind} ${r.version}` : (r.error ?? ''),
            String(r.ms),
          ]),
        ];
        const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
        const line = (row: string[]) =>
          row
            .map((cell, c) => (c === 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
            .join('  ')
            .trimEnd();
        log.out(line(table[0]));
        log.out(widths.map((w) => '-'.repeat(w)).join('  '));
        for (const row of table.slice(1)) log.out(line(row));
        log.out(`${n - failed}/${n} connection(s) completed`);
        for (const r of rows.filter((x) => !x.ok && x.hint))
          log.errOut(`${r.connection}: ${r.error} (hint: ${r.hint})`);
      }
      return failed === 0 ? EXIT_OK : EXIT_FAILED;
    });
  });
  return cmd;
}

/** The default chain on every target at once, as the Coordinator's connections; one row per target. */
async function runOnCoordinator(
  targets: { name: string; host: string; port: number }[],
  settings: Settings,
  log: Logger,
): Promise<MultiRow[]> {
  const connectionOptions = machineConnectionOptions(settings, log);
  const coordinator = new Coordinator(
    targets.map((t) => ({
      name: t.name,
      context: {
        host: t.host,
        port: t.port,
        username: settings.user,
        password: settings.password ?? '',
        database: settings.database,
        connectionOptions,
      },
    })),
  );
  // each connection's time is from the start to its end (completed or failed)
  const t0 = performance.now();
  const ms = new Map<string, number>();
  coordinator.on('status', (s: { name: string; state: string; status: string }) => {
    log.debug(`→ ${s.state}`, { connection: s.name });
    if ((s.status === 'completed' || s.status === 'failed') && !ms.has(s.name))
      ms.set(s.name, Math.round(performance.now() - t0));
  });
  try {
    const statuses = await coordinator.run();
    return statuses.map((s) => {
      const row: MultiRow = {
        connection: s.name,
        ok: s.status === 'completed',
        host: s.host,
        port: s.port,
        kind: s.server?.kind,
        version: s.server?.version,
        raw: s.server?.raw,
        ms: ms.get(s.name) ?? Math.round(performance.now() - t0),
        states: s.result?.history,
      };
      return s.status === 'completed' ? row : { ...row, ...explainFailure(s.failure ?? s.error) };
    });
  } finally {
    await coordinator.close();
  }
}
