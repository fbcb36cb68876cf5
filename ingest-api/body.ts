// A request body, read and decoded the one way both the hot path and Express use: bytes within a limit,
// gzip or deflate undone, UTF-8 only (RFC 8259), JSON parsed, and what I-JSON refuses found (ijson.ts).
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { ApiError } from './errors.ts';
import { ijsonIssues, type JsonIssue } from './ijson.ts';

const tooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `the body is over ${limit} bytes`);
const notUtf8 = () => new ApiError(415, 'unsupported_media_type', 'send UTF-8 JSON');

const decompressors: Record<string, (() => Readable & NodeJS.WritableStream) | undefined> = {
  identity: undefined,
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
};

/**
 * The body's bytes, decompressed. Refused 413 as soon as the declared length, the bytes received or the
 * decompressed bytes pass `limit` — before the rest arrives (the caller answers and closes the connection).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!Object.hasOwn(decompressors, encoding)) {
    return Promise.reject(
      new ApiError(
        415,
        'unsupported_media_type',
        `Content-Encoding ${encoding} is not supported: send gzip, deflate or none`,
      ),
    );
  }
  const decompress = decompressors[encoding]?.();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0,
      size = 0,
      settled = false;
    const fail = (e: ApiError) => {
      if (settled) return;
      settled = true;
      req.unpipe();
      decompress?.destroy();
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (received > limit) fail(tooLarge(limit));
    });
    // A client gone mid-body: there is nobody left to answer.
    req.on('error', () => fail(new ApiError(400, 'invalid_json', 'the body was cut short')));
    const decoded: Readable = decompress ? req.pipe(decompress) : req;
    if (decompress) {
      decompress.on('error', () => fail(new ApiError(400, 'invalid_encoding', `the body is not valid ${encoding}`)));
      decoded.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) fail(tooLarge(limit));
        else chunks.push(c);
      });
    } else
      req.on('data', (c: Buffer) => {
        if (!settled) chunks.push(c);
      });
    decoded.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  });
}

/** True for a Content-Type charset other than UTF-8 (none means UTF-8, JSON's only encoding). */
function otherCharset(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.includes(';')) return false;
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '');
  return m !== null && m[1]!.toLowerCase() !== 'utf-8';
}

/** What the body's JSON holds, and its I-JSON issues: one for a transaction, one per item of a batch. */
export interface JsonBody {
  value: unknown;
  issues: JsonIssue[];
}

/**
 * Decodes the body's bytes as JSON. A UTF-16 or UTF-32 body (a charset, or its byte order mark) is refused
 * 415 like any other charset; bytes that are not UTF-8 400. `itemDepth` and `maxIssues` as ijsonIssues.
 */
export function decodeJson(raw: Buffer, contentType: string | undefined, itemDepth = 0, maxIssues = 1): JsonBody {
  if (otherCharset(contentType)) throw notUtf8();
  // JSON text opens with ASCII: a zero in its first two bytes is UTF-16 or UTF-32 (RFC 4627 §3), as is their BOM.
  if (raw[0] === 0 || raw[1] === 0 || (raw[0] === 0xfe && raw[1] === 0xff) || (raw[0] === 0xff && raw[1] === 0xfe))
    throw notUtf8();
  // A UTF-8 byte order mark (itself valid UTF-8) is tolerated: RFC 8259 lets a parser ignore it.
  const start = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  if (!isUtf8(raw)) throw new ApiError(400, 'invalid_encoding', 'the body is not valid UTF-8');
  const text = raw.toString('utf8', start);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(
      400,
      'invalid_json',
      text.trim() === '' ? 'the body is empty: send a JSON object' : 'the body is not valid JSON',
    );
  }
  return { value, issues: ijsonIssues(text, itemDepth, maxIssues) };
}

/** An I-JSON issue as the refusal naming its field. */
export function issueError(issue: JsonIssue): ApiError {
  const field = issue.path.join('.');
  const at = field || 'the body';
  return issue.code === 'duplicate_key'
    ? new ApiError(400, 'duplicate_key', `${at} appears twice in one object`, field || undefined)
    : new ApiError(
        400,
        'not_an_integer',
        `${at} must be an integer written without a fraction or exponent`,
        field || undefined,
      );
}
