// API keys: the token a producer sends, and the file that stores what each key may do. A key is
// `txp_<key id>_<secret>` (32 random bytes); the file keeps only its SHA-256, never the key itself. The key id
// finds the record; the hashes are compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../common/log.ts';
import { ProducerId } from '../common/messages/fields.ts';
import { Scope } from './scope.ts';

const keyIdPattern = /^[0-9a-f]{12}$/;

export const KeyRecord = z.strictObject({
  /** Public: the part of the key before its secret, shown by `npm run keys -- list`. */
  id: z.string().regex(keyIdPattern),
  /** SHA-256 (hex) of the whole key. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The producer the key speaks for: its transactions' namespace; several keys may share it (rotation). */
  producer: ProducerId,
  name: z.string().min(1).max(64),
  scope: Scope,
  /** Transactions per second and burst of the key's token bucket; omitted: TXPIPE_RATE_LIMIT / TXPIPE_RATE_BURST (a rate alone: a burst of twice it). */
  rate: z.int().min(1).optional(),
  /**
   * false: this producer's ids are stored as sent, as with TXPIPE_AUTH=off, so a deployment that turns
   * authentication on keeps resolving the holds and reading the transactions it made before. One producer at
   * most may have it (two would share ids again).
   */
  namespaced: z.boolean().optional(),
  burst: z.int().min(1).optional(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type KeyRecord = z.infer<typeof KeyRecord>;

export const KeysFile = z.strictObject({ keys: z.array(KeyRecord) });
export type KeysFile = z.infer<typeof KeysFile>;

export const hashKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The key id of a well-formed key, else undefined. */
export function keyIdOf(key: string): string | undefined {
  const m = /^txp_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(key);
  return m?.[1];
}

/** A new key: the secret (shown once) and the parts of its record. */
export function generateKey(): { key: string; id: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const key = `txp_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, id, hash: hashKey(key).toString('hex') };
}

export function readKeysFile(file: string): KeysFile {
  if (!fs.existsSync(file)) return { keys: [] };
  const parsed = KeysFile.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const ids = new Set<string>();
  const flat = new Set<string>();
  for (const k of parsed.data.keys) {
    if (ids.has(k.id)) throw new Error(`${file}: key id ${k.id} appears twice`);
    ids.add(k.id);
    if (k.namespaced === false) flat.add(k.producer);
  }
  if (flat.size > 1)
    throw new Error(`${file}: only one producer may have namespaced: false, not ${[...flat].join(', ')}`);
  return parsed.data;
}

/** Writes the whole file at once (a rename), readable by its owner only: a reader never sees half of it. */
export function writeKeysFile(file: string, data: KeysFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(KeysFile.parse(data), null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export type Verified = { ok: true; record: KeyRecord } | { ok: false; reason: 'unknown' | 'revoked' };

// Compared against when the key id is unknown, so an unknown id costs the same as a wrong secret.
const nothing = Buffer.alloc(32);

/** The keys of one file, looked up by key id; reloaded when the file changes. */
export class KeyStore {
  private byId = new Map<string, { record: KeyRecord; hash: Buffer }>();

  constructor(
    readonly file: string,
    private readonly log?: Logger,
  ) {
    this.load();
  }

  get size(): number {
    return this.byId.size;
  }

  load(): void {
    const data = readKeysFile(this.file);
    this.byId = new Map(data.keys.map((record) => [record.id, { record, hash: Buffer.from(record.hash, 'hex') }]));
  }

  /** Polls the file's stat (a rename replaces the inode, which fs.watch would lose); a bad file keeps the keys loaded before. */
  watch(intervalMs = 500): void {
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, () => {
      try {
        this.load();
        this.log?.info('API keys reloaded', { file: this.file, keys: this.byId.size });
      } catch (e) {
        this.log?.error('API keys file refused: keeping the keys loaded before', {
          file: this.file,
          error: (e as Error).message,
        });
      }
    });
  }

  close(): void {
    fs.unwatchFile(this.file);
  }

  verify(key: string): Verified {
    const id = keyIdOf(key);
    const entry = id === undefined ? undefined : this.byId.get(id);
    const same = timingSafeEqual(hashKey(key), entry?.hash ?? nothing);
    if (!entry || !same) return { ok: false, reason: 'unknown' };
    if (entry.record.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
    return { ok: true, record: entry.record };
  }
}
