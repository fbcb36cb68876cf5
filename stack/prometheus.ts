// The system `prometheus` binary (Debian package `prometheus`) scraping ingest-api and processor, with
// txpipe's alert rules: for `npm start -- --prometheus` and the observability test.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { commandExists, logTo, spawnOwned, stopChild, waitChildReady } from './proc.ts';

/** Job names: the same in prometheus/prometheus.yml (compose), the alert rules and the dashboard. */
export const scrapeJobs = { ingest: 'txpipe-ingest-api', processor: 'txpipe-processor' } as const;
export const alertRulesFile = fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url));

export const prometheusMissing =
  'prometheus not found: install it with `apt-get install prometheus` (Debian/Ubuntu), or drop --prometheus';

export interface ScrapeTargets {
  /** host:port of each ingest-api and of each processor's ops endpoint. */
  ingest: string | string[];
  processor: string | string[];
}

/** A Prometheus configuration (JSON, which is YAML) scraping both services and loading the alert rules. */
export function prometheusConfig(targets: ScrapeTargets, scrapeInterval = '5s'): string {
  const job = (job_name: string, target: string | string[]) => ({
    job_name,
    static_configs: [{ targets: [target].flat() }],
  });
  return JSON.stringify(
    {
      global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval },
      rule_files: [alertRulesFile],
      scrape_configs: [job(scrapeJobs.ingest, targets.ingest), job(scrapeJobs.processor, targets.processor)],
    },
    null,
    2,
  );
}

export interface StartPrometheusOptions {
  /** Holds prometheus.yml (generated) and data/. */
  dir: string;
  targets: ScrapeTargets;
  port?: number;
  scrapeInterval?: string;
  logFile?: string;
  /** Called if prometheus exits on its own after it was ready (not after stop()). */
  onExit?: (code: number | string | null) => void;
}

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  if (!commandExists('prometheus')) throw new Error(prometheusMissing);
  const port = opts.port ?? (await freePort());
  const dir = path.resolve(opts.dir);
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.resolve(opts.logFile ?? path.join(dir, 'prometheus.log'));
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(configFile, prometheusConfig(opts.targets, opts.scrapeInterval));
  const url = `http://127.0.0.1:${port}`;
  const child = spawnOwned(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  logTo(child, logFile);
  const stop = () => stopChild(child, 10_000);
  await waitChildReady(child, {
    what: `prometheus on port ${port}`,
    logFile,
    timeoutMs: 30_000,
    probe: () =>
      fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      ),
    stop,
  });
  let stopping = false;
  child.once('exit', (code, sig) => {
    if (!stopping) opts.onExit?.(code ?? sig);
  });
  return {
    url,
    stop: async () => {
      stopping = true;
      await stop();
    },
  };
}
