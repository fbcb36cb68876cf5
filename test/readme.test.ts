// The README's tables are documentation users act on: keep them equal to the code.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { limits } from '../common/limits.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (name: string) => readme.slice(readme.indexOf(`<!-- section: ${name} -->`), readme.indexOf(`<!-- end: ${name} -->`));

it('the limits table lists every limit with its value', () => {
  const rows = Object.fromEntries([...section('limits').matchAll(/^\| `(\w+)` \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]));
  expect(rows).toEqual({ ...limits });
});

it('the configuration table names every environment variable the code reads', () => {
  const code = readFileSync(new URL('../common/config.ts', import.meta.url), 'utf8');
  const inCode = new Set([...code.matchAll(/\b(TXPIPE_[A-Z_]+):/g)].map((m) => m[1]));
  const inReadme = new Set([...section('configuration').matchAll(/`(TXPIPE_[A-Z_]+)`/g)].map((m) => m[1]));
  expect([...inReadme].sort()).toEqual([...inCode].sort());
});
