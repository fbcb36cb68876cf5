// POST /v1/transactions/batch: every item is parsed, checked and accepted (or refused) on its own; the
// accepted ones share one claim pipeline and one produce call (accept()).
import { ingestRejected } from '../common/metrics.ts';
import type { Message } from '../common/messages/index.ts';
import { accept, type AcceptDeps } from './accept.ts';
import { ApiError } from './errors.ts';
import { parseTransaction } from './parse.ts';
import { checkReferences } from './references.ts';

export type ItemResult =
  | { index: number; id: string; status: 'accepted' }
  | { index: number; status: 'refused'; error: { status: number; code: string; message: string; field?: string } };

export async function acceptBatch(deps: AcceptDeps, items: unknown[]): Promise<ItemResult[]> {
  const results: ItemResult[] = new Array(items.length);
  const refuse = (index: number, e: ApiError) => {
    ingestRejected.inc({ code: e.code });
    results[index] = { index, status: 'refused', error: { status: e.status, ...e.toJSON() } };
  };

  const parsed: Array<{ index: number; message: Message; prefix: string }> = [];
  items.forEach((body, index) => {
    const prefix = `transactions.${index}`;
    try {
      parsed.push({ index, message: parseTransaction(body, undefined, prefix), prefix });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      refuse(index, e);
    }
  });

  const refused = await checkReferences(deps.redis, parsed);
  const valid = parsed.filter((it, i) => {
    const e = refused[i];
    if (e) refuse(it.index, e);
    return !e;
  });

  const accepted = await accept(deps, valid.map((it) => it.message));
  accepted.forEach((r, i) => {
    const index = valid[i]!.index;
    if (r instanceof ApiError) refuse(index, r);
    else results[index] = { index, id: r.id, status: 'accepted' };
  });
  return results;
}
