// Managing API keys in the keys file (TXPIPE_KEYS_FILE): create one (its secret returned once, only its hash
// kept), list them, revoke one. ingest-api reloads the file when it changes.
import { ProducerId } from '../common/messages/fields.ts';
import { generateKey, readKeysFile, writeKeysFile, type KeyRecord } from '../ingest-api/keys.ts';
import { parseTypes, ReadScope, type Scope } from '../ingest-api/scope.ts';

export interface CreateOptions {
  name: string;
  /** The producer the key speaks for; default: the name. A second key of a producer shares its transactions. */
  producer?: string;
  /** Type patterns, comma-separated: `*`, `wallet.*`, `stock.reserve`. */
  scope: string;
  read?: string;
  entityPrefix?: string;
  rate?: number;
  burst?: number;
  /** false: the producer's ids are stored as sent (ingest-api/keys.ts). */
  namespaced?: boolean;
}

/** Adds a key to the file; returns the key (shown once: the file keeps its hash) and its record. */
export function createKey(file: string, o: CreateOptions): { key: string; record: KeyRecord } {
  const producer = ProducerId.safeParse(o.producer ?? o.name);
  if (!producer.success)
    throw new Error(`producer ${o.producer ?? o.name}: ${producer.error.issues[0]!.message} (give --producer)`);
  const read = ReadScope.safeParse(o.read ?? 'own');
  if (!read.success) throw new Error(`--read must be none, own or all`);
  const scope: Scope = {
    types: parseTypes(o.scope),
    read: read.data,
    ...(o.entityPrefix !== undefined && { entityPrefix: o.entityPrefix }),
  };
  const data = readKeysFile(file);
  const { key, id, hash } = generateKey();
  const record: KeyRecord = {
    id,
    hash,
    producer: producer.data,
    name: o.name,
    scope,
    ...(o.rate !== undefined && { rate: o.rate }),
    ...(o.burst !== undefined && { burst: o.burst }),
    ...(o.namespaced === false && { namespaced: false }),
    createdAt: new Date().toISOString(),
  };
  writeKeysFile(file, { keys: [...data.keys, record] });
  return { key, record };
}

export function listKeys(file: string): KeyRecord[] {
  return readKeysFile(file).keys;
}

/** Marks a key revoked (kept, for the audit of who sent what); false when there is no such live key. */
export function revokeKey(file: string, id: string): boolean {
  const data = readKeysFile(file);
  const k = data.keys.find((r) => r.id === id && r.revokedAt === undefined);
  if (!k) return false;
  k.revokedAt = new Date().toISOString();
  writeKeysFile(file, data);
  return true;
}
