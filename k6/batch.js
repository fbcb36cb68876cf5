// Batch ingest: POST /v1/transactions/batch with SIZE transactions a request, VUS requests in flight
// (closed loop: each VU sends its next batch when the previous one is answered). Counts accepted items.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e BODIES=/path/bodies.json -e SIZE=100 -e VUS=8 -e DURATION=20s k6/batch.js
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

const bodies = new SharedArray('bodies', () => JSON.parse(open(__ENV.BODIES)));
const size = Number(__ENV.SIZE || 100);
const url = `${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/v1/transactions/batch`;
const params = { headers: { 'Content-Type': 'application/json' } };
const accepted = new Counter('accepted_tx');
const rejected = new Counter('rejected_tx');

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    batch: { executor: 'constant-vus', vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '20s' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    rejected_tx: ['count==0'],
  },
};

export default function () {
  const start = (exec.scenario.iterationInTest * size) % bodies.length;
  const items = [];
  for (let i = 0; i < size; i++) items.push(bodies[(start + i) % bodies.length]);
  const res = http.post(url, `{"transactions":[${items.join(',')}]}`, params);
  let ok = 0;
  try {
    const body = res.json();
    const list = Array.isArray(body) ? body : body.results || body.items || [];
    for (const r of list) if (r && (r.status === 'accepted' || r.status === 202)) ok++;
  } catch (e) {
    // not JSON: nothing accepted
  }
  accepted.add(ok);
  rejected.add(size - ok);
}
