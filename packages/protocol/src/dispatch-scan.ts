/**
 * A plain dispatch's routed fields, read from its bytes in one pass that also checks the whole body's JSON syntax —
 * without building the body's value, which a dispatch never needs (raw clients get the bytes, the fields route it):
 * `JSON.parse` made ~1 KiB of strings and objects per event only to be dropped (issue 11's lean hot path).
 *
 * Sound, not complete: when it returns fields, `JSON.parse` accepts the body and `routedFields` gives the same
 * fields with op 0. Anything else — not JSON, not an object, another op, a routed key spelled with an escape or given
 * twice, an id or t with an escape or beyond ASCII, nesting deeper than MAX_DEPTH — returns `undefined`, and the
 * caller parses the body with `JSON.parse`, whose verdict and messages stand. The body must be valid UTF-8 (the
 * caller checked): then every byte ≥ 0x80 belongs to a character JSON allows only inside strings.
 */
export interface DispatchFields {
  readonly id: string | undefined;
  readonly t: string | undefined;
}

const MAX_DEPTH = 64;
/** routedFields' bounds (envelope.ts): id 1–512 characters, t up to 128. */
const ID_MAX = 512;
const T_MAX = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;

const isWhitespace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
/** After a backslash in a string: `"` `\` `/` b f n r t (u is checked apart). */
const isSimpleEscape = (b: number) =>
  b === QUOTE || b === BACKSLASH || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74;

/** What a byte inside a string is (IN_STRING): most are PLAIN, so one table read decides. */
const PLAIN = 0;
const END = 1;
const ESCAPE = 2;
const WIDE = 3;
const CONTROL = 4;
const IN_STRING = new Uint8Array(256).map((_, b) =>
  b === QUOTE ? END : b === BACKSLASH ? ESCAPE : b >= 0x80 ? WIDE : b < 0x20 ? CONTROL : PLAIN,
);

/** One pass over the bytes; positions are indexes into them, -1 means "not a JSON text this scanner accepts". */
class Scan {
  /** Set by string(): whether the string just scanned had an escape, or a byte beyond ASCII. */
  escaped = false;
  wide = false;

  constructor(private readonly bytes: Uint8Array) {}

  skipWhitespace(at: number): number {
    const bytes = this.bytes;
    while (at < bytes.length && isWhitespace(bytes[at]!)) at++;
    return at;
  }

  /** `at` is on the opening quote; returns the position after the closing one. */
  string(at: number): number {
    const bytes = this.bytes;
    this.escaped = false;
    this.wide = false;
    for (let i = at + 1; i < bytes.length; i++) {
      const kind = IN_STRING[bytes[i]!]!;
      if (kind === PLAIN) continue;
      if (kind === END) return i + 1;
      if (kind === WIDE) this.wide = true;
      else if (kind === ESCAPE) {
        this.escaped = true;
        const next = bytes[++i];
        if (next === 0x75) {
          for (let k = 0; k < 4; k++) if (!isHex(bytes[++i] ?? -1)) return -1;
        } else if (next === undefined || !isSimpleEscape(next)) return -1;
      } else return -1; // a control character
    }
    return -1;
  }

  /** A number token at `at`; returns the position after it. */
  number(at: number): number {
    const bytes = this.bytes;
    let i = at;
    if (bytes[i] === MINUS) i++;
    if (bytes[i] === ZERO) i++;
    else if (isDigit(bytes[i] ?? -1)) while (isDigit(bytes[i] ?? -1)) i++;
    else return -1;
    if (bytes[i] === 0x2e) {
      i++;
      if (!isDigit(bytes[i] ?? -1)) return -1;
      while (isDigit(bytes[i] ?? -1)) i++;
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++;
      if (bytes[i] === 0x2b || bytes[i] === MINUS) i++;
      if (!isDigit(bytes[i] ?? -1)) return -1;
      while (isDigit(bytes[i] ?? -1)) i++;
    }
    return i;
  }

  literal(at: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.bytes[at + k] !== word.charCodeAt(k)) return -1;
    return at + word.length;
  }

  /** Whether bytes[from, to) are exactly `word` (a key without escapes, quotes excluded). */
  spells(from: number, to: number, word: string): boolean {
    return this.literal(from, word) === to;
  }

  /** Any JSON value at `at` (whitespace skipped before it, not after); returns the position after it. */
  value(at: number, depth: number): number {
    const b = this.bytes[at];
    if (b === QUOTE) return this.string(at);
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) return depth >= MAX_DEPTH ? -1 : this.container(at, depth + 1);
    if (b === 0x74) return this.literal(at, 'true');
    if (b === 0x66) return this.literal(at, 'false');
    if (b === 0x6e) return this.literal(at, 'null');
    return this.number(at);
  }

  /** An object or array at `at`; returns the position after its closing bracket. */
  container(at: number, depth: number): number {
    const bytes = this.bytes;
    const isObject = bytes[at] === OPEN_OBJECT;
    const close = isObject ? CLOSE_OBJECT : CLOSE_ARRAY;
    let i = this.skipWhitespace(at + 1);
    if (bytes[i] === close) return i + 1;
    for (;;) {
      if (isObject) {
        if (bytes[i] !== QUOTE) return -1;
        i = this.string(i);
        if (i < 0) return -1;
        i = this.skipWhitespace(i);
        if (bytes[i] !== COLON) return -1;
        i = this.skipWhitespace(i + 1);
      }
      i = this.value(i, depth);
      if (i < 0) return -1;
      i = this.skipWhitespace(i);
      if (bytes[i] === close) return i + 1;
      if (bytes[i] !== COMMA) return -1;
      i = this.skipWhitespace(i + 1);
    }
  }
}

/** The routed fields of a plain dispatch (op 0), or `undefined`: see the module comment. */
export function scanDispatch(body: Buffer): DispatchFields | undefined {
  const scan = new Scan(body);
  let i = scan.skipWhitespace(0);
  if (body[i] !== OPEN_OBJECT) return undefined;
  i = scan.skipWhitespace(i + 1);
  let op: boolean | undefined;
  let id: string | undefined;
  let t: string | undefined;
  let s = false;
  let d = false;
  if (body[i] !== CLOSE_OBJECT) {
    for (;;) {
      if (body[i] !== QUOTE) return undefined;
      const keyStart = i + 1;
      i = scan.string(i);
      if (i < 0 || scan.escaped) return undefined; // an escaped key could spell a routed one
      const keyEnd = i - 1;
      i = scan.skipWhitespace(i);
      if (body[i] !== COLON) return undefined;
      const valueStart = scan.skipWhitespace(i + 1);
      i = scan.value(valueStart, 1);
      if (i < 0) return undefined;
      if (scan.spells(keyStart, keyEnd, 'op')) {
        if (op !== undefined) return undefined;
        op = i - valueStart === 1 && body[valueStart] === ZERO;
        if (!op) return undefined;
      } else if (scan.spells(keyStart, keyEnd, 'id') || scan.spells(keyStart, keyEnd, 't')) {
        const isId = keyEnd - keyStart === 2;
        if (isId ? id !== undefined : t !== undefined) return undefined;
        if (body[valueStart] !== QUOTE || scan.escaped || scan.wide) return undefined;
        const text = body.toString('latin1', valueStart + 1, i - 1);
        if (isId ? text.length < 1 || text.length > ID_MAX : text.length > T_MAX) return undefined;
        if (isId) id = text;
        else t = text;
      } else if (scan.spells(keyStart, keyEnd, 's')) {
        if (s) return undefined;
        s = true;
        // A safe integer: digits only (no fraction or exponent), at most 15 of them.
        const digitsFrom = body[valueStart] === MINUS ? valueStart + 1 : valueStart;
        if (i - digitsFrom < 1 || i - digitsFrom > 15) return undefined;
        for (let k = digitsFrom; k < i; k++) if (!isDigit(body[k]!)) return undefined;
      } else if (scan.spells(keyStart, keyEnd, 'd')) {
        if (d) return undefined;
        d = true;
      }
      i = scan.skipWhitespace(i);
      if (body[i] === CLOSE_OBJECT) break;
      if (body[i] !== COMMA) return undefined;
      i = scan.skipWhitespace(i + 1);
    }
  }
  if (scan.skipWhitespace(i + 1) !== body.length) return undefined;
  return op === true && d ? { id, t } : undefined;
}
