// The routes ingest-api/app.ts serves, read from its source: the literal ones, and each domain's from the
// registry (common/domains.ts). The README's HTTP table and the OpenAPI document are both checked against it.
import { readFileSync } from 'node:fs';
import { domainRegistry } from '../common/domains.ts';

export function appRoutes(): Array<{ method: 'get' | 'post'; path: string }> {
  const app = readFileSync(new URL('../ingest-api/app.ts', import.meta.url), 'utf8');
  const literal = [...app.matchAll(/app\.(get|post)\(\s*'([^']+)'/g)].map((m) => ({
    method: m[1] as 'get' | 'post',
    path: m[2]!,
  }));
  const perDomain = Object.values(domainRegistry).flatMap((d) =>
    Object.values(d.routes).map((path) => ({ method: 'get' as const, path })),
  );
  return [...literal, ...perDomain];
}
