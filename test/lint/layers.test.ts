// The import rules of `npm run lint` (.dependency-cruiser.cjs): the project's ts/ passes, and a
// copy of it with a planted cycle or an upward import fails, naming the rule it breaks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(DEPCRUISE, ['ts', '--config', CONFIG], { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('import layering (dependency-cruiser in lint)', function () {
  this.timeout(120_000);
  let copy: string;

  beforeEach(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'trt-layers-'));
    fs.cpSync(path.join(ROOT, 'ts'), path.join(copy, 'ts'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(copy, 'tsconfig.json'));
  });
  afterEach(() => fs.rmSync(copy, { recursive: true, force: true }));

  const plant = (file: string, text: string): void => fs.appendFileSync(path.join(copy, 'ts', file), text);

  it('passes on the project as it is', () => {
    const r = cruise(ROOT);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /no dependency violations found/);
  });

  it('fails on a cycle through layers (db importing the machine that imports db)', () => {
    plant(
      'db/address.ts',
      "\nimport { Coordinator } from '../machine/coordinator.js';\nexport const planted = Coordinator;\n",
    );
    const r = cruise(copy);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error no-circular: ts\/db\/address\.ts/);
    assert.match(r.output, /error layer-db-config: ts\/db\/address\.ts → ts\/machine\/coordinator\.ts/);
  });

  it('fails on a cycle inside one layer, type-only imports included', () => {
    fs.writeFileSync(
      path.join(copy, 'ts/machine/planted-a.ts'),
      "import type { B } from './planted-b.js';\nexport interface A { b?: B }\n",
    );
    fs.writeFileSync(
      path.join(copy, 'ts/machine/planted-b.ts'),
      "import type { A } from './planted-a.js';\nexport interface B { a?: A }\n",
    );
    const r = cruise(copy);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error no-circular: ts\/machine\/planted-(a|b)\.ts/);
    assert.doesNotMatch(r.output, /error layer-/);
  });

  it('fails on an upward import that makes no cycle (python knowing the runner)', () => {
    fs.writeFileSync(
      path.join(copy, 'ts/python/planted.ts'),
      "import type { CaseResult } from '../runner/types.js';\nexport type Planted = CaseResult;\n",
    );
    const r = cruise(copy);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error layer-python: ts\/python\/planted\.ts → ts\/runner\/types\.ts/);
    assert.doesNotMatch(r.output, /no-circular/);
  });
});
