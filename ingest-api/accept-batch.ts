// POST /v1/transactions/batch: every item is parsed, checked and accepted (or refused) on its own; the
// items share one pipeline of checks, one of claims and one produce call (accept.ts acceptAll()).
import { ingestRejected } from '../common/metrics.ts';
import type { Message } from '../common/messages/index.ts';
import { acceptAll, acceptedBody, type AcceptDeps } from './accept.ts';
import { issueError } from './body.ts';
import { ApiError } from './errors.ts';
import type { JsonIssue } from './ijson.ts';
import { parseTransaction } from './parse.ts';

export type ItemResult =
  | { index: number; id: string; status: 'accepted'; idempotency?: 'unchecked' }
  | { index: number; status: 'refused'; error: { status: number; code: string; message: string; field?: string } };

/** `issues`: the I-JSON issues of the items (ijson.ts paths transactions.<i>...), at most one each. */
export async function acceptBatch(deps: AcceptDeps, items: unknown[], issues: JsonIssue[] = []): Promise<ItemResult[]> {
  const issueOf = new Map(issues.map((i) => [i.path[1], i]));
  const results: ItemResult[] = new Array(items.length);
  const refuse = (index: number, e: ApiError) => {
    ingestRejected.inc({ code: e.code });
    results[index] = { index, status: 'refused', error: { status: e.status, ...e.toJSON() } };
  };

  const parsed: Array<{ index: number; message: Message; prefix: string }> = [];
  items.forEach((body, index) => {
    const prefix = `transactions.${index}`;
    const issue = issueOf.get(index);
    if (issue) return refuse(index, issueError(issue));
    try {
      parsed.push({ index, message: parseTransaction(body, undefined, prefix), prefix });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      refuse(index, e);
    }
  });

  const answers = await acceptAll(deps, parsed);
  answers.forEach((r, i) => {
    const index = parsed[i]!.index;
    if (r instanceof ApiError) refuse(index, r);
    else results[index] = { index, ...acceptedBody(r) };
  });
  return results;
}
