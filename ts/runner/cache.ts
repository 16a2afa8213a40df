// The run cache, `.test-rig-cache/` in the current folder (like pytest's
// .pytest_cache): which cases failed last (for --lf) and how long each case
// took (for --durations and for balancing shards). Both files are plain JSON
// objects keyed by node id, so other tools can read them. The folder marks
// itself as a cache (CACHEDIR.TAG: backup tools skip it) and ignores itself
// in git, so nobody has to add it to .gitignore.
import fs from 'node:fs';
import path from 'node:path';
import type { CaseResult } from './types.js';

export const CACHE_DIR = '.test-rig-cache';

const README = `# test-rig cache

This folder is written by \`test-rig run\`; it is safe to delete (or use
\`test-rig run --cache-clear\`).

- lastfailed.json: { "<node id>": true } for the cases that failed when they last ran (\`--lf\`).
- durations.json: { "<node id>": milliseconds } of each case's last run (\`--durations\`, sharding).
`;
const TAG = `Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by test-rig.
# For information about cache directory tags, see https://bford.info/cachedir/
`;

export class RunCache {
  readonly dir: string;
  constructor(dir = path.resolve(CACHE_DIR)) {
    this.dir = dir;
  }

  /** Removes the whole cache (--cache-clear). */
  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Node ids of the cases that failed last time they ran. */
  lastFailed(): string[] {
    return Object.keys(this.#read('lastfailed.json'));
  }

  /**
   * Records a run: its failed cases become (or stay) last-failed, its passed
   * ones stop being so; cases that did not run keep what they had.
   */
  record(results: CaseResult[]): void {
    const failed = this.#read('lastfailed.json');
    const durations = this.#read('durations.json');
    for (const r of results) {
      if (r.status === 'cancelled') continue; // stopped by the user: says nothing about the case
      if (r.status === 'failed') failed[r.case.id] = true;
      else delete failed[r.case.id];
      if (r.status !== 'skipped') durations[r.case.id] = Math.round(r.durationMs);
    }
    this.#prepare();
    this.#write('lastfailed.json', failed);
    this.#write('durations.json', durations);
  }

  #read(name: string): Record<string, unknown> {
    try {
      const v: unknown = JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
      return {}; // absent or damaged: a cache starts over
    }
  }

  #prepare(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    for (const [name, text] of [
      ['README.md', README],
      ['CACHEDIR.TAG', TAG],
      ['.gitignore', '# created by test-rig\n*\n'],
    ])
      if (!fs.existsSync(path.join(this.dir, name))) fs.writeFileSync(path.join(this.dir, name), text);
  }

  /** Written whole, then renamed: a reader never sees half a file. */
  #write(name: string, value: Record<string, unknown>): void {
    const file = path.join(this.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
    fs.renameSync(tmp, file);
  }
}
