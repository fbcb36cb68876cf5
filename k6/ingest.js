// Single-transaction ingest at a constant arrival rate: POST /v1/transactions with the benchmark's mix.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e BODIES=/path/bodies.json -e RATE=2000 -e DURATION=30s k6/ingest.js
// BODIES is a JSON array of request bodies (strings), written by bench/run.ts from bench/mix.ts.
// Fails (exit 99) when more than 1% of requests fail or p99 exceeds P99_MS (default 50).
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

const bodies = new SharedArray('bodies', () => JSON.parse(open(__ENV.BODIES)));
const rate = Number(__ENV.RATE || 1000);
const p99 = Number(__ENV.P99_MS || 50);
const preAllocated = Math.min(1000, Math.max(50, Math.ceil(rate * 0.1)));
const url = `${__ENV.BASE_URL || 'http://127.0.0.1:8080'}${__ENV.URL_PATH || '/v1/transactions'}`;
const params = { headers: { 'Content-Type': 'application/json' } };
// With authentication on, the key to send (bench/lib/pipeline.ts sets it).
if (__ENV.TXPIPE_KEY) params.headers.Authorization = `Bearer ${__ENV.TXPIPE_KEY}`;

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    ingest: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      // Connections for 100 ms of latency at this rate, all opened up front: k6 drops an iteration when no
      // VU is free at its due time, and starting VUs mid-test is slow. More (to MAX_VUS) if latency grows.
      preAllocatedVUs: preAllocated,
      maxVUs: Math.max(preAllocated, Number(__ENV.MAX_VUS || Math.min(2000, Math.ceil(rate * 0.25)))),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(99)<${p99}`],
  },
};

export default function () {
  // Anything but 2xx counts in http_req_failed; nothing else is recorded per request (k6 shares the CPU).
  http.post(url, bodies[exec.scenario.iterationInTest % bodies.length], params);
}
