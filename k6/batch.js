// Batch ingest: POST /v1/transactions/batch, VUS requests in flight (closed loop: each VU sends its next
// batch when the previous one is answered); counts the transactions accepted.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e BATCHES=/path/batches.json -e SIZE=100 -e VUS=8 -e DURATION=20s k6/batch.js
// BATCHES is a JSON array of ready request bodies ({"transactions":[...SIZE items]}), written by
// bench/run.ts, so k6 spends no CPU building them.
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

const batches = new SharedArray('batches', () => JSON.parse(open(__ENV.BATCHES)));
const size = Number(__ENV.SIZE || 100);
const url = `${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/v1/transactions/batch`;
const params = { headers: { 'Content-Type': 'application/json' } };
// With authentication on, the key to send (bench/lib/pipeline.ts sets it).
if (__ENV.TXPIPE_KEY) params.headers.Authorization = `Bearer ${__ENV.TXPIPE_KEY}`;
const accepted = new Counter('accepted_tx');
const refused = new Counter('rejected_tx');

export const options = {
  scenarios: {
    batch: { executor: 'constant-vus', vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '20s' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    rejected_tx: ['count==0'],
  },
};

export default function () {
  const res = http.post(url, batches[exec.scenario.iterationInTest % batches.length], params);
  // Per-item results: {"results":[{"index":0,"id":"...","status":"accepted"},...]}; counted without parsing.
  const ok = typeof res.body === 'string' ? res.body.split('"status":"accepted"').length - 1 : 0;
  accepted.add(ok);
  refused.add(size - ok);
}
