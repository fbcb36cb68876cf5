// The README's tables are documentation users act on: keep them equal to the code.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { topics } from '../common/config.ts';
import { appRoutes } from './app-routes.ts';
import { limits } from '../common/limits.ts';
import { checks } from '../ops/verify.ts';
import { bytesPerTransaction } from '../processor/sizing.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (name: string) =>
  readme.slice(readme.indexOf(`<!-- section: ${name} -->`), readme.indexOf(`<!-- end: ${name} -->`));

it('the limits table lists every limit with its value', () => {
  const rows = Object.fromEntries(
    [...section('limits').matchAll(/^\| `(\w+)` \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]),
  );
  expect(rows).toEqual({ ...limits });
});

it('the configuration table names every environment variable the code reads', () => {
  const code = readFileSync(new URL('../common/config.ts', import.meta.url), 'utf8');
  const inCode = new Set([...code.matchAll(/\b(TXPIPE_[A-Z_]+):/g)].map((m) => m[1]));
  const inReadme = new Set([...section('configuration').matchAll(/`(TXPIPE_[A-Z_]+)`/g)].map((m) => m[1]));
  expect([...inReadme].sort()).toEqual([...inCode].sort());
});

it('the configuration table names every topic, in order', () => {
  const row = /^\| `TXPIPE_TOPIC_PREFIX` \| .* \| topics are (.*) \|$/m.exec(section('configuration'))?.[1];
  const named = [...(row ?? '').matchAll(/`(?:<prefix>)?\.(\w+)`/g)].map((m) => m[1]);
  expect(named).toEqual(Object.keys(topics('')));
});

it('the HTTP section lists every error code and every route', () => {
  const http = section('http');
  const errors = readFileSync(new URL('../ingest-api/errors.ts', import.meta.url), 'utf8');
  const union = errors.slice(
    errors.indexOf('export type ErrorCode'),
    errors.indexOf(';', errors.indexOf('export type ErrorCode')),
  );
  const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
  expect(codes.length).toBeGreaterThan(10);
  expect(codes.filter((c) => !http.includes(`\`${c}\``))).toEqual([]);

  const routes = appRoutes().map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(routes.length).toBeGreaterThan(5);
  expect(routes.filter((r) => !http.includes(`\`${r}\``))).toEqual([]);
});

it('the Operating section lists every check verify makes, as the code words it', () => {
  const rows = Object.fromEntries(
    [...section('operating').matchAll(/^\| `(\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]),
  );
  expect(rows).toEqual({ ...checks });
});

it('the sizing table lists the bytes per transaction the start-up check uses', () => {
  const rows = Object.fromEntries(
    [...section('retention').matchAll(/^\| `(\w+)` \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]),
  );
  expect(rows).toEqual({ ...bytesPerTransaction });
});
