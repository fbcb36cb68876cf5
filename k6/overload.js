// Overload: a constant arrival rate above what ingest-api can accept (bench/run.ts uses 2x the stage-2
// rate for 30 s). ingest-api must shed the excess with fast 503s instead of queueing without bound:
// every answer is a 202 or a 503, and both come back fast.
//   k6 run -e BASE_URL=... -e BODIES=... -e RATE=8000 -e DURATION=30s k6/overload.js
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

const bodies = new SharedArray('bodies', () => JSON.parse(open(__ENV.BODIES)));
const rate = Number(__ENV.RATE || 4000);
const url = `${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/v1/transactions`;
const s202 = new Counter('status_202');
const s503 = new Counter('status_503');
const sOther = new Counter('status_other');
const params = { headers: { 'Content-Type': 'application/json' }, responseCallback: http.expectedStatuses(202, 503) };
// With authentication on, the key to send (bench/lib/pipeline.ts sets it).
if (__ENV.TXPIPE_KEY) params.headers.Authorization = `Bearer ${__ENV.TXPIPE_KEY}`;

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    overload: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      // Many clients, as on a busy day: up to half a second's arrivals in flight (far more than ingest-api
      // admits), so the excess meets its admission limit rather than k6's connection pool.
      preAllocatedVUs: Math.min(2000, Math.max(100, Math.ceil(rate * 0.2))),
      maxVUs: Number(__ENV.MAX_VUS || Math.min(3000, Math.max(100, Math.ceil(rate * 0.5)))),
    },
  },
  thresholds: {
    // Nothing but 202 or 503 (a 503 is the expected answer to the excess).
    status_other: ['count==0'],
    http_req_failed: ['rate==0'],
    // Shedding is fast; accepted requests stay bounded too.
    'http_req_duration{status:503}': [`p(99)<${Number(__ENV.SHED_P99_MS || 100)}`],
    'http_req_duration{status:202}': [`p(99)<${Number(__ENV.ACCEPT_P99_MS || 1000)}`],
  },
};

export default function () {
  const res = http.post(url, bodies[exec.scenario.iterationInTest % bodies.length], params);
  if (res.status === 202) s202.add(1);
  else if (res.status === 503) s503.add(1);
  else sOther.add(1);
}
