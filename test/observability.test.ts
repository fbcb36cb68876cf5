// Observability, verified rather than assumed: the real pipeline and a real Prometheus (Debian package
// `prometheus`) scraping it; after a mixed load every PromQL expression of the Grafana dashboard must
// return series, the DLQ alert must fire, and /metrics must carry no per-transaction or per-account label.
// Also: the alert rules pass `promtool`, the compose file mounts what exists, the README lists the metrics.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Partitioners } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.ts';
import { consumerLag, definitions } from '../common/metrics.ts';
import { watchLag } from '../processor/lag.ts';
import { scrapeJobs, startPrometheus, type PrometheusServer } from '../stack/prometheus.ts';
import { startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const dashboard = JSON.parse(read('grafana/dashboards/txpipe.json'));

/** Every PromQL expression of a dashboard: panel targets (rows included) and query variables. */
function dashboardExpressions(dash: any): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.expr === 'string') out.push(o.expr);
    Object.values(o).forEach(walk);
  };
  walk(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q: string = typeof v.query === 'string' ? v.query : v.query.query;
    // label_values(<selector>, <label>) is Grafana's; the selector inside is PromQL.
    out.push(q.replace(/^label_values\((.*),\s*\w+\)$/s, '$1'));
  }
  return out;
}

/** Grafana's variables replaced by values Prometheus accepts: intervals by 1m, the rest (regex matchers) by `.*`. */
const resolveVariables = (expr: string) =>
  expr.replace(/\$\{?__(rate_interval|interval|range)\}?/g, '1m').replace(/\$\{\w+(:\w+)?\}|\$\w+/g, '.*');

describe('rules, configs and docs', () => {
  it('promtool: the rules check clean, their unit tests pass, both Prometheus configs are valid', () => {
    const promtool = (...args: string[]) =>
      execFileSync('promtool', args, { cwd: path.join(root, 'prometheus'), encoding: 'utf8', stdio: 'pipe' });
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 7 rules found/);
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/valid prometheus config/);
  });

  it('docker-compose.yml mounts files that exist, and Prometheus scrapes the compose services on their ports', () => {
    const compose = parseYaml(read('docker-compose.yml'), { merge: true });
    const s = compose.services;
    expect(Object.keys(s)).toEqual(
      expect.arrayContaining(['kafka', 'redis', 'ingest-api', 'processor', 'prometheus', 'grafana']),
    );
    expect(s.kafka.image).toBe('apache/kafka:4.1.1');
    expect(s.redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    for (const svc of Object.values<any>(s)) {
      for (const v of svc.volumes ?? []) {
        const host = String(v).split(':')[0]!;
        if (host.startsWith('.'))
          expect(fs.existsSync(path.join(root, host)), `${host} mounted but missing`).toBe(true);
      }
    }
    expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
    const prom = parseYaml(read('prometheus/prometheus.yml'));
    const targets = Object.fromEntries(
      prom.scrape_configs.map((j: any) => [j.job_name, j.static_configs[0].targets[0]]),
    );
    expect(targets).toEqual({
      [scrapeJobs.ingest]: `ingest-api:${s['ingest-api'].environment.TXPIPE_INGEST_PORT}`,
      [scrapeJobs.processor]: `processor:${s.processor.environment.TXPIPE_PROCESSOR_PORT}`,
    });
    expect(s['ingest-api'].ports).toContain('8080:8080');
    expect(s.processor.ports).toContain('9464:9464');
    const ds = parseYaml(read('grafana/provisioning/datasources/prometheus.yml'));
    expect(ds.datasources[0].url).toBe('http://prometheus:9090');
  });

  it('the README lists every metric with its type and labels', () => {
    const readme = read('README.md');
    const section = readme.slice(
      readme.indexOf('<!-- section: observability -->'),
      readme.indexOf('<!-- end: observability -->'),
    );
    const labels = (l: string[]) => (l.length ? l.map((n) => `\`${n}\``).join(', ') : '—');
    const expected = definitions().map(
      (d) => `| \`${d.name}\` | ${d.service} | ${d.type} | ${labels(d.labels)} | ${d.help} |`,
    );
    const rows = section.split('\n').filter((l) => l.startsWith('| `txpipe_'));
    expect(rows, `README observability table should be:\n${expected.join('\n')}`).toEqual(expected);
  });
});

describe('against a real Prometheus', () => {
  let p: Pipeline;
  let prom: PrometheusServer;
  let dir: string;
  const query = async (q: string) => {
    const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    return body.data!.result;
  };
  const metricsOf = (url: string) => fetch(url).then((r) => r.text());

  beforeAll(async () => {
    p = await startPipeline();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-prometheus-'));
    const processorHost = new URL(p.processor.readyUrl).host;
    prom = await startPrometheus({
      dir,
      scrapeInterval: '1s',
      targets: { ingest: new URL(p.ingestUrl).host, processor: processorHost },
    });
    // The first scrapes must see the counters at zero, or increase() (the DLQ alert) misses the first event.
    await waitFor('both targets scraped', async () => (await query('up{job=~"txpipe-.*"} == 1')).length === 2, 30_000);
  });
  afterAll(async () => {
    await prom?.stop();
    await p?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const used: string[] = [];

  it('after a mixed load, every dashboard expression returns series and the DLQ alert fires', async () => {
    // Rejected at the door: invalid fields, an unknown type, broken JSON, the wrong media type, no such route.
    const account = uid('obs-acct');
    used.push(account);
    expect((await p.post({ type: 'wallet.credit', account, amount: -5 })).status).toBe(400);
    expect((await p.post({ type: 'wallet.nope', account, amount: 5 })).status).toBe(400);
    expect((await p.post('{"type": "wallet.credit",')).status).toBe(400);
    const text = await fetch(`${p.ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    expect((await p.get(`/v1/no-such-route/${account}`)).status).toBe(404);

    // Accepted and applied: an account, credits and debits, one debit too large (a rejection outcome),
    // and a hold with the shortest ttl, which the sweeper expires.
    const ids: string[] = [];
    const send = async (body: Record<string, unknown>) => {
      const id = uid('obs-tx');
      const r = await p.post({ id, ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      ids.push(id);
    };
    await send({ type: 'wallet.open', account });
    for (let i = 0; i < 20; i++) await send({ type: 'wallet.credit', account, amount: 100 });
    for (let i = 0; i < 10; i++) await send({ type: 'wallet.debit', account, amount: 50 });
    await send({ type: 'wallet.debit', account, amount: 1_000_000 });
    await send({ type: 'wallet.hold', account, amount: 10, ttl: 1000 });
    used.push(...ids);
    const outcomes = await waitForOutcomes(p, ids);
    expect([...outcomes.values()].filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect((await p.get(`/v1/transactions/${ids[1]}`)).status).toBe(200);
    expect((await p.get(`/v1/accounts/${account}`)).status).toBe(200);

    // Garbage straight onto the wallet topic: the processor dead-letters it.
    const producer = p.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: p.topics.wallet, messages: [{ key: account, value: 'this is not a transaction' }] });
    await producer.disconnect();

    // Prometheus sees the dead letter (two more scrapes give rate() its points), and the alert fires.
    await waitFor(
      'the dead letter in Prometheus',
      async () =>
        (await query('sum(increase(txpipe_processor_messages_total{code="dlq", domain="wallet"}[1m])) > 0')).length ===
        1,
      30_000,
    );
    await waitFor(
      'TxpipeDeadLetters firing',
      async () => {
        const r = (await fetch(`${prom.url}/api/v1/alerts`).then((res) => res.json())) as {
          data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
        };
        return r.data.alerts.some(
          (a) => a.labels.alertname === 'TxpipeDeadLetters' && a.labels.domain === 'wallet' && a.state === 'firing',
        );
      },
      30_000,
    );

    await waitFor(
      'the sweeper expiration in Prometheus',
      async () =>
        (await query('sum(txpipe_processor_sweeper_expirations_total{type="wallet.expire"}) >= 1')).length === 1,
      30_000,
    );

    const expressions = dashboardExpressions(dashboard).map(resolveVariables);
    expect(expressions.length).toBeGreaterThan(20);
    let empty: string[] = [];
    await waitFor(
      'every dashboard expression to return series',
      async () => {
        const results = await Promise.all(expressions.map(async (e) => ({ e, n: (await query(e)).length })));
        empty = results.filter((r) => r.n === 0).map((r) => r.e);
        return empty.length === 0;
      },
      20_000,
    ).catch(() => undefined);
    expect(empty, `dashboard expressions without series:\n${empty.join('\n')}`).toEqual([]);

    // Real numbers behind the main panels, not just series.
    const value = async (q: string) => Number((await query(q))[0]?.value[1] ?? NaN);
    expect(await value('sum(txpipe_ingest_accepted_total)')).toBeGreaterThanOrEqual(ids.length);
    expect(await value('sum(txpipe_processor_messages_total{code="ok"})')).toBeGreaterThanOrEqual(ids.length - 1);
    expect(await value('sum(txpipe_processor_messages_total{code="insufficient_funds"})')).toBe(1);
    expect(await value('sum(txpipe_ingest_requests_total{route="unmatched", status="404"})')).toBe(1);
    expect(await value('sum(txpipe_ingest_rejected_total{code="unsupported_media_type"})')).toBe(1);
    // Lag is measured from Kafka every few seconds: all caught up and committed, it reads zero.
    await waitFor(
      'consumer lag back to 0',
      async () => (await value('sum(txpipe_processor_consumer_lag_messages)')) === 0,
      20_000,
    );
  });

  it('/metrics carries no per-transaction or per-account label, only bounded label names', async () => {
    const allowed = new Set([
      // txpipe's
      'service',
      'route',
      'status',
      'code',
      'reason',
      'type',
      'domain',
      'script',
      'topic',
      'partition',
      'le',
      // a producer id from the keys file (keys are few), "unknown" without a valid key
      'producer',
      'outcome',
      // prom-client's default process metrics
      'kind',
      'space',
      'version',
      'major',
      'minor',
      'patch',
    ]);
    const texts = await Promise.all([
      metricsOf(`${p.ingestUrl}/metrics`),
      metricsOf(p.processor.readyUrl.replace('/readyz', '/metrics')),
    ]);
    expect(used.length).toBeGreaterThan(30);
    const ids = new Set(used);
    const names = new Set<string>();
    const leaks: string[] = [];
    for (const line of texts.join('\n').split('\n')) {
      if (line.startsWith('#') || !line.includes('{')) continue;
      for (const [, name, value] of line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        names.add(name!);
        if (ids.has(value!) || used.some((id) => value!.includes(id))) leaks.push(line);
      }
    }
    expect(leaks).toEqual([]);
    expect([...names].filter((n) => !allowed.has(n))).toEqual([]);
    // Every route label is a pattern or "unmatched", whatever URL was requested.
    const routes = new Set([...texts[0]!.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const r of routes) expect(r).toMatch(/^(unmatched|\/[\w/:-]*)$/);
    expect(routes).toContain('/v1/transactions/:id');
  });
  it('consumer lag comes from Kafka: a partition behind counts from its commit, one never consumed from its start', async () => {
    // The DLQ topic: nothing consumes it, so its offsets stay where this test puts them.
    const topic = p.topics.dlq;
    const groupId = uid('lag-probe');
    const producer = p.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const records = (partition: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ partition, value: `lag ${i}` }));
    await producer.send({ topic, messages: [...records(0, 5), ...records(1, 2)] });
    await producer.disconnect();
    const admin = p.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    const high = (n: number) => Number(ends.find((e) => e.partition === n)!.high);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(high(0) - 3) }] });
    await admin.disconnect();

    const lag = watchLag(p.kafka, groupId, createLogger('lag-test', 'error'), 60_000);
    try {
      lag.assign({ [topic]: [0, 1, 2] });
      const byPartition = () =>
        consumerLag.get().then((m) => Object.fromEntries(m.values.map((v) => [v.labels.partition, v.value])));
      await waitFor('lag measured', async () => Object.keys(await byPartition()).length === 3, 10_000);
      const low = Object.fromEntries(ends.map((e) => [e.partition, Number(e.low)]));
      expect(await byPartition()).toEqual({ '0': 3, '1': high(1) - low[1]!, '2': high(2) - low[2]! });
      lag.assign({});
      await waitFor('lag cleared when unassigned', async () => Object.keys(await byPartition()).length === 0, 10_000);
    } finally {
      await lag.stop();
    }
  });
});
