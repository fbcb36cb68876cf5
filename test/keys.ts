// API keys for the test pipelines: each pipeline gets its own keys file (authentication stays on, as
// deployed) with one key that may do everything; tests of keys and scopes add their own with addKey().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKey, revokeKey, type CreateOptions } from '../ops/keys.ts';

export interface TestKey {
  key: string;
  id: string;
  producer: string;
  /** Where its ids are stored: its producer's namespace, or undefined when stored as sent. */
  namespace?: string;
  headers: Record<string, string>;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Sets env.TXPIPE_KEYS_FILE (unless given) to a new file holding the pipeline's key: every type, every read,
 * no practical rate limit, and its ids stored as sent (namespaced: false), so the tests that look at Redis
 * keys and Kafka records by id see the ids they sent. TXPIPE_TEST_NAMESPACED=1 makes it a producer like any
 * other (ids stored as `test~<id>`): the tests that go through the API and waitForOutcomes run that way too.
 */
export function testKey(env: NodeJS.ProcessEnv): TestKey {
  env.TXPIPE_KEYS_FILE ??= path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-keys-')), 'keys.json');
  const namespaced = process.env.TXPIPE_TEST_NAMESPACED === '1';
  const { key, record } = createKey(env.TXPIPE_KEYS_FILE, {
    name: 'test',
    scope: '*',
    read: 'all',
    rate: 1_000_000,
    burst: 1_000_000,
    namespaced,
  });
  return {
    key,
    id: record.id,
    producer: record.producer,
    namespace: namespaced ? record.producer : undefined,
    headers: bearer(key),
  };
}

/** Another key in the same file (ingest-api picks it up within a second: wait for it with keyLive). */
export function addKey(file: string, o: CreateOptions): TestKey {
  const { key, record } = createKey(file, o);
  return { key, id: record.id, producer: record.producer, headers: bearer(key) };
}

export function revoke(file: string, id: string): void {
  if (!revokeKey(file, id)) throw new Error(`no live key ${id}`);
}
