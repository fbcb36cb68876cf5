// POST /v1/transactions/batch: every item is parsed, checked and accepted (or refused) on its own; the
// items share one pipeline of checks, one of claims and one produce call (accept.ts acceptAll()).
import { ingestRejected } from '../common/metrics.ts';
import type { Message } from '../common/messages/index.ts';
import { acceptAll, acceptedBody, type AcceptDeps } from './accept.ts';
import { issueError } from './body.ts';
import { ApiError } from './errors.ts';
import type { JsonIssue } from './ijson.ts';
import { parseTransaction } from './parse.ts';
import { anonymous, forbidden, type Principal } from './auth.ts';
import { inNamespace } from './namespace.ts';
import { checkTransaction } from './scope.ts';
import { producerTransactions } from '../common/metrics.ts';

export type ItemResult =
  | { index: number; id: string; status: 'accepted'; idempotency?: 'unchecked' }
  | { index: number; status: 'refused'; error: { status: number; code: string; message: string; field?: string } };

/** `issues`: the I-JSON issues of the items (ijson.ts paths transactions.<i>...), at most one each. */
export async function acceptBatch(
  deps: AcceptDeps,
  items: unknown[],
  issues: JsonIssue[] = [],
  principal: Principal = anonymous,
): Promise<ItemResult[]> {
  const producer = principal.producer ?? 'anonymous';
  const issueOf = new Map(issues.map((i) => [i.path[1], i]));
  const results: ItemResult[] = new Array(items.length);
  const refuse = (index: number, e: ApiError) => {
    ingestRejected.inc({ code: e.code });
    producerTransactions.inc({ producer, outcome: 'refused' });
    results[index] = { index, status: 'refused', error: { status: e.status, ...e.toJSON() } };
  };

  const parsed: Array<{ index: number; message: Message; prefix: string; producer?: string }> = [];
  items.forEach((body, index) => {
    const prefix = `transactions.${index}`;
    const issue = issueOf.get(index);
    if (issue) return refuse(index, issueError(issue));
    try {
      const message = parseTransaction(body, undefined, prefix);
      const denied = checkTransaction(principal.scope, message, prefix);
      if (denied) throw forbidden(principal, denied);
      parsed.push({ index, message: inNamespace(message, principal.namespace), prefix, producer: principal.producer });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      refuse(index, e);
    }
  });

  const answers = await acceptAll(deps, parsed);
  answers.forEach((r, i) => {
    const index = parsed[i]!.index;
    if (r instanceof ApiError) refuse(index, r);
    else {
      producerTransactions.inc({ producer, outcome: 'accepted' });
      results[index] = { index, ...acceptedBody(r) };
    }
  });
  return results;
}
