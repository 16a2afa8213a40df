// Commands the docs print, read back so tests can run them exactly as printed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The lines of the first fenced block after `marker` in a doc. */
export function docBlock(doc: string, marker: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `${doc} has no ${marker}`);
  const block = /```\w*\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(block, `${doc}: no code block after ${marker}`);
  return block[1].trimEnd().split('\n');
}

/** `test-rig a 'b c'` → ['a', 'b c'] (the docs' commands use plain words and single quotes only). */
export function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(1);
}
