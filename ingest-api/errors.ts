// Every refusal ingest-api makes: an HTTP status, a stable machine code, a message and the field.
import type { z } from 'zod';
import type { Published } from '../common/kafka-sender.ts';

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_encoding'
  | 'duplicate_key'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_an_object'
  | 'unknown_type'
  | 'missing_field'
  | 'unknown_field'
  | 'wrong_type'
  | 'not_an_integer'
  | 'out_of_range'
  | 'invalid_format'
  | 'invalid_value'
  | 'id_mismatch'
  | 'self_transfer'
  | 'duplicate_seat'
  | 'unknown_seat'
  | 'unknown_hold'
  | 'unknown_reservation'
  | 'idempotency_key_mismatch'
  | 'idempotency_in_flight'
  | 'transaction_too_large'
  | 'kafka_unavailable'
  | 'overloaded'
  | 'redis_unavailable'
  | 'not_found'
  | 'internal'
  | 'unauthenticated'
  | 'forbidden'
  | 'rate_limited';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Seconds, for 503: when to try again. */
    readonly retryAfter?: number,
    /**
     * For 503: `id` the transaction's id, so a client that sent none can retry it safely; `published` "no"
     * when it was refused before anything was sent, "unknown" when Kafka did not answer (it may be in the log).
     */
    readonly about: { id?: string; published?: Published; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * The answer's headers: when to retry a 503 or 429; a 413 closes the connection (the rest of the body is
   * never read); and the refusal's own (WWW-Authenticate, RateLimit).
   */
  headers(): Record<string, string> | undefined {
    const own = this.about.headers;
    if (this.retryAfter !== undefined) return { ...own, 'Retry-After': String(this.retryAfter) };
    if (this.status === 413) return { ...own, Connection: 'close' };
    return own;
  }

  /** The same refusal, naming the transaction it refused. */
  forTransaction(id: string): ApiError {
    return new ApiError(this.status, this.code, this.message, this.field, this.retryAfter, { ...this.about, id });
  }

  toJSON() {
    const { id, published } = this.about;
    return {
      code: this.code,
      message: this.message,
      ...(this.field !== undefined && { field: this.field }),
      ...(id !== undefined && { id }),
      ...(published !== undefined && { published }),
    };
  }
}

const fieldPath = (path: PropertyKey[]) => path.map(String).join('.');

function lookup(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The first zod issue as an ApiError naming the field (the offending key itself for unknown fields). */
export function fromZod(error: z.ZodError, input: unknown, prefix = ''): ApiError {
  const issue = error.issues[0]!;
  const field = [prefix, fieldPath(issue.path)].filter(Boolean).join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = [field, issue.keys[0]].filter(Boolean).join('.');
      return new ApiError(400, 'unknown_field', `unknown field ${key}`, key);
    }
    case 'invalid_type': {
      const value = lookup(input, issue.path);
      if (value === undefined) return new ApiError(400, 'missing_field', `${field} is required`, field);
      if (typeof value === 'number' && (issue.expected === 'int' || issue.expected === 'number'))
        return new ApiError(400, 'not_an_integer', `${field} ${issue.message}`, field);
      return new ApiError(
        400,
        'wrong_type',
        `${field} must be a ${issue.expected === 'int' ? 'number' : issue.expected}, not ${value === null ? 'null' : typeof value}`,
        field,
      );
    }
    case 'too_small':
      return new ApiError(400, 'out_of_range', `${field} ${issue.message}`, field);
    case 'too_big':
      return new ApiError(400, 'out_of_range', `${field} must be at most ${String(issue.maximum)}`, field);
    case 'invalid_format':
      return new ApiError(400, 'invalid_format', `${field} ${issue.message}`, field);
    case 'custom': {
      // Refinements name their own code (common/messages: self_transfer, duplicate_seat).
      const code = (issue.params?.code as ErrorCode | undefined) ?? 'invalid_value';
      return new ApiError(400, code, `${field} ${issue.message}`, field);
    }
    default:
      return new ApiError(400, 'invalid_value', `${field}: ${issue.message}`, field);
  }
}
