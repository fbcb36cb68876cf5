// Micro-benchmark of the body decoding on the hot path, before and after the I-JSON checks, in one run:
//   before  Buffer -> text -> JSON.parse -> parseTransaction (the old hot path)
//   after   decodeJson (UTF-8 check, JSON.parse, ijson.ts scan) -> parseTransaction
// `npx tsx bench/ijson.ts [iterations]`: a few seconds, one core.
import { decodeJson } from '../ingest-api/body.ts';
import { parseTransaction } from '../ingest-api/parse.ts';

const iterations = Number(process.argv[2] ?? 200_000);
const bodies = [
  { type: 'wallet.debit', account: 'acct-42', amount: 250 },
  { type: 'wallet.transfer', from: 'alice', to: 'bob', amount: 300 },
  { type: 'stock.reserve', sku: 'tee-red', quantity: 2, customer: 'bob', ttl: 600000 },
  { type: 'seats.hold', event: 'gig-1', seats: ['A1', 'A2'], holder: 'carol', ttl: 300000 },
].map((b) => Buffer.from(JSON.stringify(b)));

// An Idempotency-Key, so no id is generated (randomUUID would be most of the cost).
const before = (raw: Buffer) => parseTransaction(JSON.parse(raw.toString('utf8')), 'k-1');
const after = (raw: Buffer) => parseTransaction(decodeJson(raw, 'application/json').value, 'k-1');

function time(fn: (raw: Buffer) => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(bodies[i % bodies.length]!);
  return Number(process.hrtime.bigint() - started) / iterations;
}

// Warm both up, then alternate rounds so neither gets the better half of the run.
time(before);
time(after);
const rounds = { before: [] as number[], after: [] as number[] };
for (let r = 0; r < 5; r++) {
  rounds.before.push(time(before));
  rounds.after.push(time(after));
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [b, a] = [median(rounds.before), median(rounds.after)];
console.log(`bodies of ${bodies.map((x) => x.length).join('/')} bytes, ${iterations} iterations x 5 rounds (median)`);
console.log(
  `before ${b.toFixed(0)} ns/body, after ${a.toFixed(0)} ns/body: ratio ${(a / b).toFixed(2)} (+${(a - b).toFixed(0)} ns)`,
);
