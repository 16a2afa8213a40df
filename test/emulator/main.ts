// CLI entry so tests and benchmarks can run the emulator as a child process:
//   node dist/test/emulator/main.js [--port N] [--layout 13|20|21] [--rows-per-second N]
//        [--chunk-rows N] [--chunk-delay-ms N] [--pending-ms N] [--validating-ms N] [--version S]
//        [--backend host:port] [--backend-user U] [--backend-password P]
// Prints one JSON line {"host":…,"port":…} on stdout once listening; SIGTERM/SIGINT stop it.
import { parseArgs } from 'node:util';
import { startEmulator, type EmulatorOptions } from './server.js';
import type { Layout } from './jobs.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    layout: { type: 'string' },
    'rows-per-second': { type: 'string' },
    'chunk-rows': { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    'pending-ms': { type: 'string' },
    'validating-ms': { type: 'string' },
    version: { type: 'string' },
    backend: { type: 'string' },
    'backend-user': { type: 'string' },
    'backend-password': { type: 'string' },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const [bHost, bPort] = (values.backend ?? '').split(':');
const opts: EmulatorOptions = {
  port: Number(values.port),
  backend: {
    host: bHost || undefined,
    port: num(bPort || undefined),
    user: values['backend-user'],
    password: values['backend-password'],
  },
};
if (values.layout) opts.layout = Number(values.layout) as Layout;
if (values.version) opts.version = values.version;
for (const [flag, key] of [
  ['rows-per-second', 'rowsPerSecond'],
  ['chunk-rows', 'chunkRows'],
  ['chunk-delay-ms', 'chunkDelayMs'],
  ['pending-ms', 'pendingMs'],
  ['validating-ms', 'validatingMs'],
] as const) {
  const v = num(values[flag]);
  if (v !== undefined) opts[key] = v;
}
// Undefined backend fields would override the defaults; drop them.
opts.backend = Object.fromEntries(Object.entries(opts.backend!).filter(([, v]) => v !== undefined));

const emu = await startEmulator(opts);
process.stdout.write(JSON.stringify({ host: emu.host, port: emu.port }) + '\n');
const stop = (): void => {
  void emu.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
