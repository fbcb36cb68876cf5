// schemathesis fuzzes the live API from its OpenAPI document: generated valid and invalid requests for every
// operation (examples, coverage, fuzzing) and chains of them (stateful, from the document's links). Passes when
// no answer is a 5xx and every answer conforms (status listed, content type, schema), and invalid data is refused.
// Bounded: a few examples per operation and a time budget. Skipped, saying so, where schemathesis is missing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './harness.ts';

const st = ['st', 'schemathesis'].find((bin) => spawnSync(bin, ['--version']).status === 0);
if (!st)
  console.warn(
    'schemathesis is not on PATH (pip install schemathesis; .ci/run installs it): test/schemathesis.test.ts skipped',
  );

const checks = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
];

let p: Pipeline;
beforeAll(async () => {
  if (st) p = await startPipeline();
});
afterAll(async () => {
  await p?.stop();
});

it.skipIf(!st)(
  'schemathesis finds no 5xx and no answer outside the document',
  async () => {
    const reportDir = new URL('../.test-output/schemathesis/', import.meta.url).pathname;
    mkdirSync(reportDir, { recursive: true });
    // One worker: hypothesis parses its strategies' source with `ast` from each worker thread, which CPython
    // 3.11 does not survive when two threads do it at once (a SystemError in the coverage phase).
    const args = [
      '--config-file',
      new URL('schemathesis.toml', import.meta.url).pathname,
      'run',
      `${p.ingestUrl}/openapi.json`,
      '--checks',
      checks.join(','),
      '--phases',
      'examples,coverage,fuzzing,stateful',
      '--max-examples',
      '15',
      '--max-time',
      '90',
      '--seed',
      '1',
      '--workers',
      '1',
      '--request-timeout',
      '10',
      '--no-color',
      '--generation-database',
      'none',
      // The pipeline's API key, on every request (the document's bearer scheme).
      '--header',
      `Authorization: ${p.auth.authorization}`,
      // The live streams never end: test/streams.test.ts reads them.
      '--exclude-path-regex',
      '/stream$',
      '--report',
      'junit',
      '--report-dir',
      reportDir,
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      let output = '';
      const child = spawn(st!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (b: Buffer) => {
        output += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        output += b.toString();
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.on('exit', (c) => {
        clearTimeout(killer);
        resolve({ code: c, output });
      });
    });
    writeFileSync(`${reportDir}output.txt`, output);
    expect(code, `schemathesis failed (all of its output: ${reportDir}output.txt):\n${output.slice(-6000)}`).toBe(0);
  },
  240_000,
);
