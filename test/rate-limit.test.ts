// Per-key rate limits: one producer flooding at 3x its rate gets 429s for the excess and never more than
// rate x time + burst accepted, while another keeps every request; two ingest-api instances share a bucket.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { readTopic, Service, sleep, startAnother, startPipeline, uid, type Pipeline } from './harness.ts';
import { addKey, type TestKey } from './keys.ts';

const rate = 20,
  burst = 20;
let p: Pipeline;
let second: Service;
let secondUrl: string;
let flood: TestKey, calm: TestKey, shared: TestKey, batches: TestKey;

beforeAll(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rate-test-')), 'keys.json');
  flood = addKey(file, { name: 'flood', scope: 'wallet.*', rate, burst });
  calm = addKey(file, { name: 'calm', scope: 'wallet.*', rate, burst });
  shared = addKey(file, { name: 'shared', scope: 'wallet.*', rate, burst });
  batches = addKey(file, { name: 'batches', scope: 'wallet.*', rate: 1, burst });
  // Accepted transactions only need Kafka: no processor, less CPU for the timing.
  p = await startPipeline({ processor: false, env: { TXPIPE_KEYS_FILE: file } });
  ({ service: second, url: secondUrl } = await startAnother(p, 'ingest-api'));
});
afterAll(async () => {
  await second?.stop();
  await p?.stop();
});

interface Answer {
  status: number;
  code?: string;
  headers: Headers;
  at: number;
}

const post = async (url: string, key: TestKey, body: unknown, route = '/v1/transactions'): Promise<Answer> => {
  const r = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...key.headers },
    body: JSON.stringify(body),
  });
  const json = (await r.json().catch(() => ({}))) as { code?: string };
  return { status: r.status, code: json.code, headers: r.headers, at: Date.now() };
};

/** `perSecond` requests a second for `seconds`, fired on schedule whatever the answers; every answer. */
async function load(perSecond: number, seconds: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const sent: Array<Promise<Answer>> = [];
  const start = Date.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = start + (i * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    sent.push(send(i));
  }
  return Promise.all(sent);
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

describe('rate limits per key', () => {
  it('a producer at 3x its rate gets 429 for the excess, within rate x time + burst; another keeps every request', async () => {
    const marker = uid('flood');
    const seconds = 4;
    const started = Date.now();
    const [flooded, steady] = await Promise.all([
      load(3 * rate, seconds, () =>
        post(p.ingestUrl, flood, { type: 'wallet.open', account: `${marker}-${uid('a')}` }),
      ),
      load(rate / 2, seconds, () => post(p.ingestUrl, calm, { type: 'wallet.open', account: uid('calm') })),
    ]);
    const elapsed = (Date.now() - started) / 1000;
    const accepted = count(flooded, 202);
    expect(count(flooded, 202) + count(flooded, 429)).toBe(flooded.length);
    expect(accepted).toBeLessThanOrEqual(Math.ceil(rate * elapsed + burst));
    // The bucket was used, not just refused: at least the burst and most of what the rate earned.
    expect(accepted).toBeGreaterThanOrEqual(burst + rate * (seconds - 1));
    expect(count(flooded, 429)).toBeGreaterThan(flooded.length / 3);
    expect(steady.map((a) => a.status)).toEqual(steady.map(() => 202));

    const limited = flooded.find((a) => a.status === 429)!;
    expect(limited.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit-policy')).toBe(`"producer";q=${burst};w=1`);
    expect(limited.headers.get('ratelimit')).toMatch(/^"producer";r=\d+;t=\d+$/);
    // Nothing refused was published: the topic holds exactly the accepted ones.
    const onTopic = (await readTopic(p.kafka, p.topics.wallet)).filter((m) => m.value!.toString().includes(marker));
    expect(onTopic.length).toBe(accepted);
  });

  it('two ingest-api instances draw from one bucket: together they accept within the limit', async () => {
    await sleep(1000); // the flood's bucket is another key's; this one starts full
    const seconds = 3;
    const started = Date.now();
    const answers = await load(3 * rate, seconds, (i) =>
      post(i % 2 ? secondUrl : p.ingestUrl, shared, { type: 'wallet.open', account: uid('shared') }),
    );
    const elapsed = (Date.now() - started) / 1000;
    const byInstance = [0, 1].map((k) => answers.filter((_, i) => i % 2 === k));
    expect(count(answers, 202)).toBeLessThanOrEqual(Math.ceil(rate * elapsed + burst));
    // Each alone would have taken up to its own rate x time + burst: both were limited by the one bucket.
    for (const own of byInstance) expect(count(own, 429)).toBeGreaterThan(0);
  });

  it('a batch costs its items; a batch larger than the burst is refused, nothing published', async () => {
    const items = (n: number, marker: string) => ({
      transactions: Array.from({ length: n }, () => ({ type: 'wallet.open', account: `${marker}-${uid('b')}` })),
    });
    const marker = uid('batch');
    const first = await post(p.ingestUrl, batches, items(15, marker), '/v1/transactions/batch');
    expect(first.status).toBe(200);
    const next = await post(p.ingestUrl, batches, items(15, marker), '/v1/transactions/batch');
    expect([next.status, next.code]).toEqual([429, 'rate_limited']);
    const huge = await post(p.ingestUrl, batches, items(burst + 1, marker), '/v1/transactions/batch');
    expect([huge.status, huge.code]).toEqual([429, 'rate_limited']);
    const onTopic = (await readTopic(p.kafka, p.topics.wallet)).filter((m) => m.value!.toString().includes(marker));
    expect(onTopic.length).toBe(15);
  });
});

describe('Redis unreachable: the limiter fails as configured', () => {
  it.each([
    ['open', 202],
    ['closed', 503],
  ] as const)('%s -> %i', async (mode, status) => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const q = await startPipeline({
      processor: false,
      ready: false,
      ingestEnv: { TXPIPE_REDIS_URL: dead, TXPIPE_RATE_LIMIT_REDIS_DOWN: mode },
    });
    try {
      const key = addKey(q.keysFile, { name: 'limited', scope: 'wallet.*', rate: 1, burst: 1 });
      await sleep(1500); // the keys file is re-read
      const r = await post(q.ingestUrl, key, { type: 'wallet.open', account: uid('a') });
      expect(r.status).toBe(status);
      if (status === 503) expect(r.code).toBe('redis_unavailable');
    } finally {
      await q.stop();
    }
  });
});
