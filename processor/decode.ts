// Kafka bytes -> a validated message, or the reason it is not one (the message then goes to the DLQ).
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
  const parsed = anyMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `invalid ${issue.path.join('.') || 'message'}: ${issue.message}` };
  }
  return { ok: true, message: parsed.data };
}
