// What JSON.parse cannot see in the text it parsed, and I-JSON (RFC 7493) refuses for a money API:
//   - a number written with a fraction or an exponent (`1.0`, `1e3`, `1.0000000000000001`): every number
//     in a transaction is an integer, and JSON.parse would quietly make each of these one;
//   - a key repeated in one object (`{"amount":1,"amount":7}`), which JSON.parse resolves last-wins.
// One pass over text JSON.parse has already accepted, so it needs no syntax checks of its own.

export type JsonPath = Array<string | number>;
export interface JsonIssue {
  code: 'not_an_integer' | 'duplicate_key';
  path: JsonPath;
}

interface Frame {
  object: boolean;
  /**
   * Objects: the keys seen so far and the current one; arrays: the index. A list, not a Set: objects here
   * have a handful of keys, and a Set per object was half the cost of the scan.
   */
  keys: string[];
  at: string | number;
  expectKey: boolean;
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  PLUS = 0x2b;
const OPEN_OBJECT = 0x7b,
  CLOSE_OBJECT = 0x7d,
  OPEN_ARRAY = 0x5b,
  CLOSE_ARRAY = 0x5d;
const DOT = 0x2e,
  LOWER_E = 0x65,
  UPPER_E = 0x45,
  MINUS = 0x2d,
  ZERO = 0x30,
  NINE = 0x39;

const noKeys: string[] = [];

/** The index just past the string that opens at `start` (a quote). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

const isNumberChar = (c: number) =>
  (c >= ZERO && c <= NINE) || c === MINUS || c === PLUS || c === DOT || c === LOWER_E || c === UPPER_E;

/**
 * The issues of `text` (valid JSON), at most one per item: an item is what the first `itemDepth` path
 * elements name (2 for a batch's `transactions.<i>`). An issue above that depth refuses the whole body,
 * so the scan stops there, as it does once `maxIssues` are found.
 */
export function ijsonIssues(text: string, itemDepth = 0, maxIssues = 1): JsonIssue[] {
  const issues: JsonIssue[] = [];
  const frames: Frame[] = [];
  let lastItem = '';
  const report = (code: JsonIssue['code'], key?: string): boolean => {
    const path: JsonPath = frames.map((f) => f.at);
    if (key !== undefined) path[path.length - 1] = key;
    const item = path.length > itemDepth ? path.slice(0, itemDepth).join('\u0000') : undefined;
    if (item !== undefined && itemDepth > 0 && issues.length > 0 && item === lastItem) return false;
    issues.push({ code, path });
    lastItem = item ?? '';
    return item === undefined || issues.length >= maxIssues;
  };

  for (let i = 0, n = text.length; i < n;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = frames[frames.length - 1];
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        if (top.keys.includes(key) && report('duplicate_key', key)) return issues;
        top.keys.push(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end;
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      let integer = true;
      let j = i + 1;
      for (let d = text.charCodeAt(j); isNumberChar(d); d = text.charCodeAt(++j)) {
        if (d === DOT || d === LOWER_E || d === UPPER_E) integer = false;
      }
      if (!integer && report('not_an_integer')) return issues;
      i = j;
    } else {
      if (c === OPEN_OBJECT) frames.push({ object: true, keys: [], at: '', expectKey: true });
      else if (c === OPEN_ARRAY) frames.push({ object: false, keys: noKeys, at: 0, expectKey: false });
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) frames.pop();
      else if (c === COMMA) {
        const top = frames[frames.length - 1]!;
        if (top.object) top.expectKey = true;
        else (top.at as number)++;
      }
      // Whitespace, colons and the letters of true, false and null need nothing.
      i++;
    }
  }
  return issues;
}
