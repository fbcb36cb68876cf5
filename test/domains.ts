// Helpers for the domain tests (wallet transfers and holds, stock, seats): post, then wait for the outcome.
import { expect } from 'vitest';
import { waitForOutcomes, type Pipeline } from './harness.ts';

export interface Outcome {
  id: string;
  type: string;
  status: 'applied' | 'rejected';
  code: string;
  result: Record<string, number>;
}

const toOutcome = (id: string, h: Record<string, string>): Outcome => ({
  id,
  type: h.type!,
  status: h.status as Outcome['status'],
  code: h.code!,
  result: JSON.parse(h.result ?? '{}'),
});

/** Posts every body (concurrently), expects 202 for each, and returns their outcomes in order. */
export async function applyAll(p: Pipeline, bodies: object[], timeoutMs?: number): Promise<Outcome[]> {
  const replies = await Promise.all(bodies.map((b) => p.post(b)));
  replies.forEach((r, i) => expect(r.status, JSON.stringify({ body: bodies[i], reply: r.body })).toBe(202));
  const ids = replies.map((r) => r.body.id as string);
  const outcomes = await waitForOutcomes(p, ids, timeoutMs);
  return ids.map((id) => toOutcome(id, outcomes.get(id)!));
}

/** Posts one transaction and returns its outcome. */
export async function apply(p: Pipeline, body: object): Promise<Outcome> {
  return (await applyAll(p, [body]))[0]!;
}

/** POST /v1/transactions/batch. */
export async function postBatch(p: Pipeline, transactions: unknown[], headers: Record<string, string> = {}) {
  const r = await fetch(`${p.ingestUrl}/v1/transactions/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...p.auth, ...headers },
    body: JSON.stringify({ transactions }),
  });
  return { status: r.status, body: await r.json() };
}
