// Keys, their hashes, their file and the Authorization header, without a server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKey, listKeys, revokeKey } from '../ops/keys.ts';
import { Authenticator, bearerToken } from './auth.ts';
import { generateKey, hashKey, keyIdOf, KeyStore, readKeysFile, writeKeysFile } from './keys.ts';

const tmpFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-spec-')), 'keys.json');

describe('API keys', () => {
  it('a key is txp_<12 hex>_<43 base64url> and only its SHA-256 is kept', () => {
    const { key, id, hash } = generateKey();
    expect(key).toMatch(/^txp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(key)).toBe(id);
    expect(hash).toBe(hashKey(key).toString('hex'));
    expect(keyIdOf('txp_short_x')).toBeUndefined();
    expect(generateKey().key).not.toBe(key);
  });

  it('the file keeps hashes, never keys; a revoked key and a wrong secret are refused', () => {
    const file = tmpFile();
    const { key, record } = createKey(file, { name: 'checkout', scope: 'stock.*,seats.*' });
    const other = createKey(file, {
      name: 'tickets',
      scope: 'seats.*',
      entityPrefix: 'gig-',
      read: 'none',
      rate: 10,
      burst: 20,
    });
    expect(fs.readFileSync(file, 'utf8')).not.toContain(key.slice(17));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const store = new KeyStore(file);
    expect(store.verify(key)).toEqual({ ok: true, record });
    // Same key id, another secret: unknown, not a match.
    expect(store.verify(`${key.slice(0, 17)}${'A'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.verify('txp_000000000000_' + 'A'.repeat(43))).toEqual({ ok: false, reason: 'unknown' });
    expect(revokeKey(file, record.id)).toBe(true);
    expect(revokeKey(file, record.id)).toBe(false);
    store.load();
    expect(store.verify(key)).toEqual({ ok: false, reason: 'revoked' });
    expect(store.verify(other.key)).toMatchObject({
      ok: true,
      record: { producer: 'tickets', rate: 10, burst: 20, scope: { read: 'none', entityPrefix: 'gig-' } },
    });
    expect(listKeys(file).map((k) => k.name)).toEqual(['checkout', 'tickets']);
  });

  it('a file that does not hold keys is refused whole, naming what is wrong; none at all is no keys', () => {
    const file = tmpFile();
    expect(readKeysFile(file)).toEqual({ keys: [] });
    createKey(file, { name: 'a', scope: '*', namespaced: false });
    createKey(file, { name: 'b', scope: '*', namespaced: false });
    expect(() => readKeysFile(file)).toThrow(/only one producer may have namespaced: false/);
    fs.writeFileSync(file, JSON.stringify({ keys: [{ id: 'x' }] }));
    expect(() => readKeysFile(file)).toThrow(/keys\.0/);
    expect(() => writeKeysFile(file, { keys: [{ id: 'nope' }] } as never)).toThrow();
  });

  it('a producer id is lower-case letters, digits and -, so it never holds the separator ~', () => {
    const file = tmpFile();
    expect(() => createKey(file, { name: 'Check Out', scope: '*' })).toThrow(/give --producer/);
    expect(createKey(file, { name: 'Check Out', producer: 'checkout', scope: '*' }).record.producer).toBe('checkout');
    expect(() => createKey(file, { name: 'x', producer: 'a~b', scope: '*' })).toThrow();
  });
});

describe('the Authorization header', () => {
  it('Bearer <token>, the scheme in any case; anything else is missing or malformed', () => {
    expect(bearerToken(undefined)).toEqual({ missing: true });
    expect(bearerToken('')).toEqual({ missing: true });
    expect(bearerToken('Bearer abc')).toEqual({ token: 'abc' });
    expect(bearerToken('bearer abc')).toEqual({ token: 'abc' });
    expect(bearerToken('Basic dXNlcjpwYXNz')).toEqual({ malformed: true });
    expect(bearerToken('Bearer')).toEqual({ malformed: true });
    expect(bearerToken('Bearer a b')).toEqual({ malformed: true });
  });

  it('401 unauthenticated with WWW-Authenticate; the answer never repeats the key sent', () => {
    const file = tmpFile();
    const { key } = createKey(file, { name: 'checkout', scope: '*' });
    const auth = new Authenticator(new KeyStore(file));
    expect(auth.authenticate(`Bearer ${key}`)).toMatchObject({ producer: 'checkout', namespace: 'checkout' });
    const wrong = `${key.slice(0, -4)}AAAA`;
    for (const header of [undefined, 'Basic x', `Bearer ${wrong}`]) {
      const e = auth.authenticate(header);
      expect(e).toMatchObject({ status: 401, code: 'unauthenticated' });
      const headers = (e as { headers(): Record<string, string> }).headers();
      expect(headers['WWW-Authenticate']).toMatch(/^Bearer realm="txpipe"/);
      const answer = JSON.stringify(e) + JSON.stringify(headers);
      expect(answer).not.toContain(wrong.slice(17));
    }
    expect(new Authenticator(undefined).authenticate(undefined)).toMatchObject({
      scope: { types: ['*'], read: 'all' },
    });
  });
});
