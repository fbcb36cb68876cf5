// Who is asking: the Authorization header -> the key's principal (producer, scope, rate), or the 401.
// Answers never echo what the client sent in the header.
import { authFailures } from '../common/metrics.ts';
import { ApiError } from './errors.ts';
import type { KeyStore } from './keys.ts';
import { fullScope, type Scope } from './scope.ts';

export interface Principal {
  /** Undefined with TXPIPE_AUTH=off: ids are stored as the client sent them. */
  producer?: string;
  /** The namespace of its ids: the producer, or undefined for a key with `namespaced: false` (and auth off). */
  namespace?: string;
  keyId?: string;
  scope: Scope;
  rate?: number;
  burst?: number;
}

/** TXPIPE_AUTH=off: every request may do everything, in no producer's namespace, unlimited. */
export const anonymous: Principal = { scope: fullScope };

const challenge = 'Bearer realm="txpipe"';

function unauthenticated(message: string, invalidToken: boolean, reason: string): ApiError {
  authFailures.inc({ producer: 'unknown', code: 'unauthenticated', reason });
  return new ApiError(401, 'unauthenticated', message, 'Authorization', undefined, {
    headers: { 'WWW-Authenticate': invalidToken ? `${challenge}, error="invalid_token"` : challenge },
  });
}

/** The token of `Authorization: Bearer <token>` (RFC 6750: the scheme is case-insensitive), or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { missing: true } | { malformed: true } {
  if (header === undefined || header === '') return { missing: true };
  const m = /^bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  return m ? { token: m[1]! } : { malformed: true };
}

export class Authenticator {
  /** `keys` undefined: authentication is off. */
  constructor(private readonly keys: KeyStore | undefined) {}

  get enabled(): boolean {
    return this.keys !== undefined;
  }

  authenticate(header: string | undefined): Principal | ApiError {
    if (!this.keys) return anonymous;
    const b = bearerToken(header);
    if ('missing' in b) return unauthenticated('send Authorization: Bearer <key>', false, 'missing');
    if ('malformed' in b) return unauthenticated('the Authorization header is not Bearer <key>', true, 'malformed');
    const v = this.keys.verify(b.token);
    if (!v.ok) return unauthenticated(v.reason === 'revoked' ? 'the key was revoked' : 'unknown key', true, v.reason);
    const { producer, id, scope, rate, burst, namespaced } = v.record;
    return { producer, namespace: namespaced === false ? undefined : producer, keyId: id, scope, rate, burst };
  }
}

/** Counts a 403 against its producer (a bounded label: keys are few). */
export function forbidden(p: Principal, e: ApiError): ApiError {
  authFailures.inc({ producer: p.producer ?? 'anonymous', code: 'forbidden', reason: 'scope' });
  return e;
}
