// Each error code with the HTTP statuses it is answered with: the OpenAPI document lists, for every route,
// the codes it may answer. Typed against ErrorCode, so a new code cannot be left out of the document.
import type { ErrorCode } from './errors.ts';

export const errorStatuses: Record<ErrorCode, readonly number[]> = {
  invalid_json: [400],
  invalid_encoding: [400],
  duplicate_key: [400],
  not_an_object: [400],
  unknown_type: [400],
  missing_field: [400],
  unknown_field: [400],
  wrong_type: [400],
  not_an_integer: [400],
  out_of_range: [400],
  invalid_format: [400],
  invalid_value: [400],
  id_mismatch: [400],
  self_transfer: [400],
  duplicate_seat: [400],
  unknown_seat: [422],
  unknown_hold: [422],
  unknown_reservation: [422],
  idempotency_key_mismatch: [422],
  unauthenticated: [401],
  forbidden: [403],
  not_found: [404],
  idempotency_in_flight: [409],
  payload_too_large: [413],
  transaction_too_large: [413],
  unsupported_media_type: [415],
  rate_limited: [429],
  internal: [500],
  kafka_unavailable: [503],
  overloaded: [503],
  redis_unavailable: [503],
};

/** The codes answered with `status`. */
export const codesWith = (status: number) =>
  (Object.keys(errorStatuses) as ErrorCode[]).filter((c) => errorStatuses[c].includes(status));
