// test-rig against the Node⇄Python bridges people know, side by side
// in one run. `node dist/bench/peers.js [--quick] [--out DIR]` (or `npm run bench`).
// node-calls-python and pythonia are installed into a temporary folder, never
// into the package; each contender runs in its own child process (two embedded
// CPythons cannot share one process) — see bench/peers/*.ts.
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testServer } from '../test/helpers/db.js';
import { benchPythonDir } from './lib/jsonl-child.js';
import { formatUs, renderChart, type Group } from './lib/chart.js';
import { median, spread } from './lib/measure.js';
import type { Result } from './peers/child.js';
import { SCENARIOS, SCENARIO_IDS, type DriverOptions, type ScenarioId } from './peers/driver.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '../..');
const quick = process.argv.includes('--quick');
const outArg = process.argv.indexOf('--out');
const outDir =
  outArg > 0
    ? path.resolve(process.argv[outArg + 1])
    : quick
      ? mkdtempSync(path.join(os.tmpdir(), 'test-rig-bench-'))
      : path.join(repo, 'docs');
const command = process.env.TEST_RIG_BENCH_COMMAND ?? `node dist/bench/peers.js${quick ? ' --quick' : ''}`;
const DRIVERS = ['testrig', 'mysql2', 'jsonl', 'node-calls-python', 'pythonia'];
const PEERS = { 'node-calls-python': '1.11.1', pythonia: '1.2.6' };

function log(msg: string): void {
  process.stderr.write(`[peers] ${msg}\n`);
}

/** Installs the peers into a temporary folder; returns its node_modules, or why it could not. */
function installPeers(): { dir: string | null; tmp: string | null; reason: string | null } {
  if (process.env.TEST_RIG_PEERS_DIR) return { dir: process.env.TEST_RIG_PEERS_DIR, tmp: null, reason: null };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'test-rig-peers-'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const timeout = (quick ? 30 : 150) * 1000;
  const common = [
    '--prefix',
    tmp,
    '--no-audit',
    '--no-fund',
    '--foreground-scripts',
    '--fetch-retries=0',
    '--fetch-timeout=15000',
  ];
  log(
    `installing ${Object.entries(PEERS)
      .map(([k, v]) => `${k}@${v}`)
      .join(', ')} into ${tmp}`,
  );
  const t0 = Date.now();
  const inst = spawnSync(npm, ['install', ...common, ...Object.entries(PEERS).map(([k, v]) => `${k}@${v}`)], {
    encoding: 'utf8',
    timeout,
  });
  const nm = path.join(tmp, 'node_modules');
  if (inst.status !== 0 || !existsSync(path.join(nm, 'pythonia'))) {
    const why = inst.error
      ? inst.error.message
      : (inst.stderr || '')
          .split('\n')
          .filter((l) => /^npm (error|ERR!)/.test(l))
          .map((l) => l.replace(/^npm (error|ERR!)\s*/, ''))
          .slice(0, 2)
          .join('; ')
          .slice(0, 160);
    return { dir: null, tmp, reason: `npm install failed (${why || `exit ${inst.status}`})` };
  }
  // npm 11 does not run a dependency's install script until approved; node-calls-python builds in it.
  const addon = path.join(nm, 'node-calls-python', 'build', 'Release', 'nodecallspython.node');
  if (!existsSync(addon)) {
    log('node-calls-python not built by install; running npm rebuild');
    spawnSync(npm, ['rebuild', 'node-calls-python', ...common], { encoding: 'utf8', timeout });
  }
  log(
    `installed in ${((Date.now() - t0) / 1000).toFixed(1)} s${existsSync(addon) ? '' : ' (node-calls-python did not build)'}`,
  );
  return { dir: nm, tmp, reason: null };
}

function runDriver(name: string, opts: DriverOptions): Promise<Result[]> {
  return new Promise((resolve) => {
    const results: Result[] = [];
    const child = fork(path.join(here, 'peers', 'child.js'), [name, JSON.stringify(opts)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), (quick ? 40 : 100) * 1000);
    child.on('message', (m) => results.push(m as Result));
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      if (code !== 0) log(`${name} exited with ${signal ?? code}`);
      resolve(results);
    });
  });
}

interface Row {
  scenario: ScenarioId;
  contender: string;
  label: string;
  status: Result['status'];
  reason?: string;
  medianUs?: number;
  spread?: number;
  usPerOp?: number[];
  opsPerRep?: number;
  /** Contender's time ÷ test-rig's time, per test-rig path (>1: test-rig faster). */
  vsInline?: number;
  vsDefault?: number;
}

interface Target {
  text: string;
  path: 'inline' | 'default';
  scenario: ScenarioId;
  against: string;
  /** How many times faster test-rig is (or, for 'within', test-rig's time ÷ the floor's). */
  ratio: number | null;
  bound: string;
  met: boolean | null;
  primary: boolean;
}

function machine(): Record<string, string | number> {
  const py = process.env.TEST_RIG_PYTHON || 'python3';
  let python = 'unknown';
  try {
    python = execFileSync(
      py,
      ['-c', 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])'],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch {
    /* reported as unknown */
  }
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    python,
  };
}

function evaluateTargets(rows: Row[]): Target[] {
  const med = (s: ScenarioId, c: string): number | null => {
    const r = rows.find((x) => x.scenario === s && x.contender === c && x.status === 'ok');
    return r?.medianUs ?? null;
  };
  const targets: Target[] = [];
  const faster = (
    text: string,
    p: 'inline' | 'default',
    s: ScenarioId,
    vsS: ScenarioId,
    c: string,
    bound: number,
    primary: boolean,
  ): void => {
    const mine = med(s, `testrig-${p}`);
    const theirs = med(vsS, c);
    const ratio = mine && theirs ? theirs / mine : null;
    targets.push({
      text,
      path: p,
      scenario: s,
      against: c,
      ratio,
      bound: `≥ ${bound}× faster`,
      met: ratio === null ? null : ratio >= bound,
      primary,
    });
  };
  for (const s of ['s1', 's2', 's5a', 's5b'] as const)
    for (const p of ['inline', 'default'] as const)
      faster('3× faster than the JSON-lines child', p, s, s, 'jsonl', 3, true);
  for (const p of ['inline', 'default'] as const) {
    const mine = med('s4', `testrig-${p}`);
    const floor = med('s4', 'mysql2');
    const ratio = mine && floor ? mine / floor : null;
    targets.push({
      text: 'within 1.25× of direct mysql2 (async form)',
      path: p,
      scenario: 's4',
      against: 'mysql2',
      ratio,
      bound: '≤ 1.25× the time',
      met: ratio === null ? null : ratio <= 1.25,
      primary: true,
    });
  }
  for (const s of ['s1', 's2'] as const)
    for (const p of ['inline', 'default'] as const)
      faster("3× faster than node-calls-python's sync call", p, s, s, 'ncp-sync', 3, p === 'inline');
  for (const c of ['ncp-async', 'pythonia'])
    for (const p of ['inline', 'default'] as const)
      faster(
        `2× faster than ${c === 'pythonia' ? 'pythonia' : "node-calls-python's async call"} (their awaited call of a plain def, scenario 1: neither can await a coroutine)`,
        p,
        's3',
        's1',
        c,
        2,
        true,
      );
  return targets;
}

function fmtRatio(r: number | undefined | null): string {
  return r === undefined || r === null ? '' : `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

function table(rows: Row[]): string {
  const lines: string[] = [];
  const head = `${'contender'.padEnd(34)} ${'median'.padStart(10)} ${'spread'.padStart(7)}  ${'inline ÷'.padStart(9)} ${'default ÷'.padStart(9)}`;
  for (const s of SCENARIO_IDS) {
    lines.push('', SCENARIOS[s], head);
    for (const r of rows.filter((x) => x.scenario === s)) {
      if (r.status !== 'ok') {
        if (r.contender === 'mysql2' && r.reason === 'no query involved') continue;
        lines.push(`${r.label.padEnd(34)} ${r.status}: ${r.reason}`);
        continue;
      }
      lines.push(
        `${r.label.padEnd(34)} ${formatUs(r.medianUs!).padStart(10)} ${`±${((r.spread! * 100) / 2).toFixed(0)}%`.padStart(7)}  ${fmtRatio(r.vsInline).padStart(9)} ${fmtRatio(r.vsDefault).padStart(9)}`,
      );
    }
  }
  lines.push(
    '',
    "÷ columns: the contender's median time ÷ test-rig's (inline / default path); above 1× test-rig is faster.",
  );
  return lines.join('\n');
}

function markdown(data: {
  machine: Record<string, unknown>;
  rows: Row[];
  targets: Target[];
  peers: Record<string, unknown>;
}): string {
  const m = data.machine;
  const out: string[] = [];
  out.push(`Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)}.`, '');
  out.push(
    `Machine: ${m.os}, ${m.cpu} (${m.cores} cores, ${m.memoryGB} GB), Node ${m.node}, ${m.python}. MariaDB on 127.0.0.1:3306.`,
    '',
  );
  const pv = data.peers as { installed: boolean; versions: Record<string, string>; reason: string | null };
  out.push(
    pv.installed
      ? `Peers: ${Object.entries(pv.versions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} (installed into a temporary folder by the run).`
      : `Peers: unavailable (${pv.reason}).`,
    '',
  );
  out.push(
    '| scenario | contender | median | spread | test-rig inline is | test-rig default is |',
    '|---|---|---:|---:|---:|---:|',
  );
  for (const r of data.rows) {
    if (r.contender === 'mysql2' && r.status === 'unsupported') continue;
    const sc = SCENARIOS[r.scenario];
    if (r.status !== 'ok') {
      out.push(`| ${sc} | ${r.label} | ${r.status}: ${r.reason} | | | |`);
      continue;
    }
    const x = (v: number | undefined): string =>
      v === undefined ? '' : `${fmtRatio(v)} ${v >= 1 ? 'faster' : 'slower'}`;
    out.push(
      `| ${sc} | ${r.label} | ${formatUs(r.medianUs!)} | ±${((r.spread! * 100) / 2).toFixed(0)}% | ${x(r.vsInline)} | ${x(r.vsDefault)} |`,
    );
  }
  out.push(
    '',
    'Spread: half the range of the repetitions, relative to their median.',
    '',
    '### Targets from this run',
    '',
  );
  out.push('| target | scenario | path | ratio | met |', '|---|---|---|---:|---|');
  for (const t of data.targets) {
    const met = t.met === null ? 'n/a (contender unavailable)' : t.met ? 'yes' : '**no**';
    out.push(
      `| ${t.text} (${t.bound})${t.primary ? '' : ' — reported beside'} | ${SCENARIOS[t.scenario]} | ${t.path} | ${t.ratio === null ? '—' : fmtRatio(t.ratio)} | ${met} |`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const peers = installPeers();
  const opts: DriverOptions = {
    quick,
    peersDir: peers.dir,
    peersUnavailable: peers.reason,
    pythonDir: benchPythonDir,
    server: testServer,
  };
  const results: Result[] = [];
  for (const d of DRIVERS) {
    const t = Date.now();
    results.push(...(await runDriver(d, opts)));
    log(`${d}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  const order = ['testrig-inline', 'testrig-default', 'mysql2', 'jsonl', 'ncp-sync', 'ncp-async', 'pythonia'];
  const rows: Row[] = [];
  for (const s of SCENARIO_IDS) {
    const rs = results
      .filter((r) => r.scenario === s)
      .sort((a, b) => order.indexOf(a.contender) - order.indexOf(b.contender));
    const medOf = (c: string): number | undefined => {
      const r = rs.find((x) => x.contender === c);
      return r?.status === 'ok' ? median(r.usPerOp) : undefined;
    };
    const inl = medOf('testrig-inline');
    const def = medOf('testrig-default');
    for (const r of rs) {
      const row: Row = { scenario: s, contender: r.contender, label: r.label, status: r.status };
      if (r.status === 'ok') {
        row.medianUs = median(r.usPerOp);
        row.spread = spread(r.usPerOp);
        row.usPerOp = r.usPerOp;
        row.opsPerRep = r.opsPerRep;
        if (!r.contender.startsWith('testrig')) {
          if (inl) row.vsInline = row.medianUs / inl;
          if (def) row.vsDefault = row.medianUs / def;
        }
      } else row.reason = r.reason;
      rows.push(row);
    }
  }
  for (const d of DRIVERS)
    if (
      !results.some((r) =>
        r.contender.startsWith(d === 'testrig' ? 'testrig' : d === 'node-calls-python' ? 'ncp' : d),
      )
    )
      log(`no results from ${d}`);

  const targets = evaluateTargets(rows);
  const versions: Record<string, string> = {};
  if (peers.dir)
    for (const p of Object.keys(PEERS)) {
      try {
        versions[p] = (
          JSON.parse(readFileSync(path.join(peers.dir, p, 'package.json'), 'utf8')) as { version: string }
        ).version;
      } catch {
        versions[p] = 'missing';
      }
    }
  if (peers.tmp) rmSync(peers.tmp, { recursive: true, force: true });
  const mach = machine();
  const peerInfo = { installed: peers.dir !== null, versions, reason: peers.reason };
  console.log(
    `\ntest-rig vs peers — ${mach.python}, node ${mach.node}, ${mach.cores} cores${quick ? ' (--quick: few, short repetitions)' : ''}`,
  );
  console.log(table(rows));
  console.log('\nTargets:');
  for (const t of targets)
    console.log(
      `  ${t.met === null ? 'n/a   ' : t.met ? 'OK    ' : 'MISSED'} ${t.scenario.padEnd(4)} ${t.path.padEnd(8)} ${t.text} (${t.bound}): ${t.ratio === null ? '—' : fmtRatio(t.ratio)}${t.primary ? '' : ' [reported beside]'}`,
    );

  const hows: Record<string, string> = {};
  for (const r of results) if (r.how) hows[r.contender] = r.how;
  const data = {
    generatedAt: new Date().toISOString(),
    command,
    quick,
    machine: mach,
    peers: peerInfo,
    scenarios: SCENARIOS,
    contenders: Object.fromEntries(
      order.map((id) => [
        id,
        { label: results.find((r) => r.contender === id)?.label ?? id, how: hows[id] ?? null },
      ]),
    ),
    results: rows,
    targets,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'benchmarks.json'), JSON.stringify(data, null, 2) + '\n');

  const groups: Group[] = SCENARIO_IDS.map((s) => ({
    title: SCENARIOS[s],
    bars: rows
      .filter((r) => r.scenario === s && !(r.contender === 'mysql2' && r.status === 'unsupported'))
      .map((r) => ({
        label: r.label,
        us: r.status === 'ok' ? r.medianUs! : null,
        own: r.contender.startsWith('testrig'),
        note:
          r.status !== 'ok'
            ? r.status === 'unsupported'
              ? 'not supported'
              : `${r.status}`
            : r.vsInline !== undefined || r.vsDefault !== undefined
              ? `test-rig ${[r.vsInline !== undefined ? `inline ${fmtRatio(r.vsInline)}` : '', r.vsDefault !== undefined ? `default ${fmtRatio(r.vsDefault)}` : ''].filter(Boolean).join(', ')} faster`.replace(
                  /(\d(?:\.\d+)?×)/g,
                  '$1',
                )
              : undefined,
      })),
  }));
  const svg = renderChart(
    'test-rig vs Node⇄Python bridges (median time per operation)',
    groups,
    `${mach.os}, ${mach.cpu} × ${mach.cores}, Node ${mach.node}, ${mach.python} — ${command}; ratios: the contender's time ÷ test-rig's`,
  );
  writeFileSync(path.join(outDir, 'benchmarks.svg'), svg);

  const mdPath = path.join(outDir, 'benchmarks.md');
  const generated = markdown({ machine: mach, rows, targets, peers: peerInfo });
  const START = '<!-- generated:start -->';
  const END = '<!-- generated:end -->';
  const existing = existsSync(mdPath)
    ? readFileSync(mdPath, 'utf8')
    : `# Benchmarks\n\n![chart](benchmarks.svg)\n\n${START}\n${END}\n`;
  const a = existing.indexOf(START);
  const b = existing.indexOf(END);
  writeFileSync(
    mdPath,
    a >= 0 && b > a
      ? `${existing.slice(0, a + START.length)}\n${generated}\n${existing.slice(b)}`
      : `${existing}\n${START}\n${generated}\n${END}\n`,
  );
  log(
    `wrote benchmarks.json, benchmarks.svg, benchmarks.md to ${outDir} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}

await main();
