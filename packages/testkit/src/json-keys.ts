/**
 * The keys that appear more than once in one object of a JSON text, as `path.key` — JSON.parse keeps the last one
 * silently, so a log line with `"role":"relay","role":"gateway"` parses fine; this reads the raw text instead.
 * Throws on text that is not JSON.
 */
export function duplicateJsonKeys(text: string): string[] {
  let i = 0;
  const found: string[] = [];
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`not JSON at ${i}: expected ${what}`);
  };
  const string = (): string => {
    if (text[i] !== '"') fail('"');
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('closing "');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const key = string();
        if (keys.has(key)) found.push(path === '' ? key : `${path}.${key}`);
        keys.add(key);
        ws();
        if (text[i++] !== ':') fail(':');
        value(path === '' ? key : `${path}.${key}`);
        ws();
        const next = text[i++];
        if (next === '}') return;
        if (next !== ',') fail(', or }');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        const next = text[i++];
        if (next === ']') return;
        if (next !== ',') fail(', or ]');
      }
    }
    if (c === '"') return void string();
    const literal = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!literal) fail('a value');
    i += literal![0].length;
  };
  value('');
  ws();
  if (i !== text.length) fail('end of text');
  return found;
}
