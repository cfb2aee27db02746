/**
 * Finds the byte range of the top-level `"d"` value in a JSON object without re-serialising anything, so a
 * gateway dispatch can carry the platform's `d` exactly (big numbers, escapes and key order included).
 * The body was already validated as JSON by the ingress; anything unexpected yields undefined.
 */
export function topLevelValueRange(body: Buffer, key: string): [number, number] | undefined {
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return undefined; // {
  i++;
  const wanted = Buffer.from(key);
  for (;;) {
    i = skipSpace(body, i);
    if (body[i] === 0x7d) return undefined; // }
    if (body[i] !== 0x22) return undefined; // "
    const keyStart = i + 1;
    const keyEnd = skipString(body, i);
    if (keyEnd === undefined) return undefined;
    i = skipSpace(body, keyEnd);
    if (body[i] !== 0x3a) return undefined; // :
    const valueStart = skipSpace(body, i + 1);
    const valueEnd = skipValue(body, valueStart);
    if (valueEnd === undefined) return undefined;
    if (keyEnd - 1 - keyStart === wanted.length && body.subarray(keyStart, keyEnd - 1).equals(wanted)) {
      return [valueStart, valueEnd];
    }
    i = skipSpace(body, valueEnd);
    if (body[i] === 0x2c)
      i++; // ,
    else return undefined;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return i;
}

/** `i` at the opening quote; returns the index just past the closing quote. */
function skipString(b: Buffer, i: number): number | undefined {
  for (i++; i < b.length; i++) {
    if (b[i] === 0x5c)
      i++; // backslash: skip the escaped byte
    else if (b[i] === 0x22) return i + 1;
  }
  return undefined;
}

function skipValue(b: Buffer, i: number): number | undefined {
  const first = b[i];
  if (first === 0x22) return skipString(b, i);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const c = b[i];
      if (c === 0x22) {
        const end = skipString(b, i);
        if (end === undefined) return undefined;
        i = end;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return undefined;
  }
  let j = i;
  while (j < b.length && ![0x2c, 0x7d, 0x5d, 0x20, 0x09, 0x0a, 0x0d].includes(b[j]!)) j++;
  return j > i ? j : undefined;
}
