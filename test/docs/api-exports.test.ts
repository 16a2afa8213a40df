// docs/api.md documents every export of the package entry point (ts/index.ts): an export
// added without a word in the API reference fails here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('docs/api.md', () => {
  it('names every export of ts/index.ts', function () {
    this.timeout(60_000);
    const entry = path.join(ROOT, 'ts/index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const names = checker.getExportsOfModule(moduleSymbol).map((s) => s.name);
    assert.ok(names.length > 100, `only ${names.length} exports found`);
    const api = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
    const missing = names.filter((n) => !new RegExp(`\\b${n}\\b`).test(api)).sort();
    assert.deepEqual(missing, [], `exports not documented in docs/api.md: ${missing.join(', ')}`);
  });
});
