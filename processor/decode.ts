// Kafka bytes -> a validated message, or the reason it is not one (the message then goes to the DLQ).
import { checkMessage } from '../common/messages/check.ts';
import { anyMessage, type Message } from '../common/messages/index.ts';

export type Decoded = { ok: true; message: Message } | { ok: false; reason: string };

export function decode(value: Buffer | null): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  // The check without zod accepts exactly what the schema accepts; zod parses only what it refuses, to
  // name the reason (the same reason as ever).
  const checked = checkMessage(json);
  if (checked) return { ok: true, message: checked };
  const parsed = anyMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `invalid ${issue.path.join('.') || 'message'}: ${issue.message}` };
  }
  return { ok: true, message: parsed.data };
}
