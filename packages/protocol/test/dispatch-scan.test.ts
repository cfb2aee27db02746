import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { c2cMessage, groupAtMessage, seededRandom } from '@hookway/testkit';
import { scanDispatch } from '../src/dispatch-scan.ts';
import { Op, routedFields } from '../src/index.ts';

/** What the scanner must never contradict: JSON.parse of the UTF-8 text, then routedFields. */
function reference(raw: Buffer): { id: string | undefined; t: string | undefined } | 'not a dispatch' {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'not a dispatch';
  }
  const routed = routedFields(value);
  return routed.success && routed.data.op === Op.Dispatch ? { id: routed.data.id, t: routed.data.t } : 'not a dispatch';
}

/** Sound: whenever the scanner answers, the reference agrees. */
function expectSound(raw: Buffer): ReturnType<typeof scanDispatch> {
  const scanned = scanDispatch(raw);
  if (scanned !== undefined) expect(reference(raw)).toEqual(scanned);
  return scanned;
}

describe('scanDispatch reads plain dispatches', () => {
  const plain: [string, string][] = [
    ['a group @ message', groupAtMessage({ id: 'GROUP_AT_MESSAGE_CREATE:abc', content: '你好 🙂 "quoted" \\ back' })],
    ['a C2C message', c2cMessage({ content: 'line\nbreak\ttab \u0001 control (escaped by stringify)' })],
    ['no id, no t', '{"op":0,"d":null}'],
    [
      'whitespace everywhere',
      ' \n{ "op" : 0 ,\r\n\t"t" : "T" , "id" : "E" , "s" : -12 , "d" : [ 1 , -0.5e+3 , 2E-2 , true , false , null , { } , [ ] ] } \n',
    ],
    ['escapes in d', '{"op":0,"id":"E","d":{"a":"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t","\\u006fp":1}}'],
    ['an unknown top-level key, with an escape in its value', '{"op":0,"x":"\\"","d":{}}'],
    ['keys that only start like routed ones', '{"op":0,"opt":1,"ids":5,"tt":[],"sx":"y","d":{}}'],
    ['id of 512 and t of 128 characters', `{"op":0,"id":"${'i'.repeat(512)}","t":"${'t'.repeat(128)}","d":{}}`],
    ['nesting 63 deep inside d', `{"op":0,"d":${'['.repeat(63)}${']'.repeat(63)}}`],
  ];
  it.each(plain)('%s', (_name, text) => {
    const raw = Buffer.from(text);
    const scanned = expectSound(raw);
    expect(scanned).toBeDefined();
  });
});

describe('scanDispatch leaves to JSON.parse what it does not read', () => {
  const cases: [string, string][] = [
    // Not JSON.
    ['empty', ''],
    ['a trailing comma in an object', '{"op":0,"d":{},}'],
    ['a trailing comma in an array', '{"op":0,"d":[1,]}'],
    ['a leading zero', '{"op":0,"d":01}'],
    ['a bare minus', '{"op":0,"d":-}'],
    ['a fraction without digits', '{"op":0,"d":1.}'],
    ['an exponent without digits', '{"op":0,"d":1e}'],
    ['a raw control character in a string', '{"op":0,"d":"a\u0001b"}'],
    ['a raw newline in a string', '{"op":0,"d":"a\nb"}'],
    ['an unknown escape', '{"op":0,"d":"\\x41"}'],
    ['a short \\u escape', '{"op":0,"d":"\\u12"}'],
    ['an unterminated string', '{"op":0,"d":"abc'],
    ['an unterminated object', '{"op":0,"d":{}'],
    ['garbage after the object', '{"op":0,"d":{}} x'],
    ['two objects', '{"op":0,"d":{}}{}'],
    ['single quotes', "{'op':0,'d':{}}"],
    ['NaN', '{"op":0,"d":NaN}'],
    ['a misspelt literal', '{"op":0,"d":nul}'],
    ['a missing colon', '{"op" 0,"d":{}}'],
    ['a non-ASCII character outside strings', '{"op":0,"d":{}}中'],
    ['a byte-order mark', '\ufeff{"op":0,"d":{}}'],
    ['a vertical tab as whitespace', '{"op":0,\u000b"d":{}}'],
    // JSON, but not for the scanner to decide.
    ['an array', '[0]'],
    ['op 13', '{"op":13,"d":{"plain_token":"a","event_ts":"1"}}'],
    ['op written as 0.0', '{"op":0.0,"d":{}}'],
    ['op written as -0', '{"op":-0,"d":{}}'],
    ['op as a string', '{"op":"0","d":{}}'],
    ['op twice', '{"op":13,"op":0,"d":{}}'],
    ['a routed key spelt with an escape', '{"\\u006fp":0,"d":{}}'],
    ['no d', '{"op":0,"id":"E"}'],
    ['a key that only starts like d', '{"op":0,"dx":{}}'],
    ['d twice', '{"op":0,"d":1,"d":2}'],
    ['an id with an escape', '{"op":0,"id":"\\u0045","d":{}}'],
    ['an id beyond ASCII', '{"op":0,"id":"é","d":{}}'],
    ['an empty id', '{"op":0,"id":"","d":{}}'],
    ['an id of 513 characters', `{"op":0,"id":"${'i'.repeat(513)}","d":{}}`],
    ['a t of 129 characters', `{"op":0,"t":"${'t'.repeat(129)}","d":{}}`],
    ['a t that is a number', '{"op":0,"t":5,"d":{}}'],
    ['s with a fraction', '{"op":0,"s":1.5,"d":{}}'],
    ['s beyond a safe integer', '{"op":0,"s":9007199254740993,"d":{}}'],
    ['nesting 65 deep', `{"op":0,"d":${'['.repeat(64)}${']'.repeat(64)}}`],
  ];
  it.each(cases)('%s', (_name, text) => {
    const raw = Buffer.from(text);
    expect(scanDispatch(raw)).toBeUndefined();
  });
});

describe('scanDispatch is sound on random bodies', () => {
  const random = seededRandom(11);

  it('on 20 000 mutations of dispatch bodies: never accepts what JSON.parse refuses, never reads other fields', () => {
    const alphabet = [
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '0',
      '1',
      '-',
      '.',
      'e',
      '+',
      ' ',
      '\n',
      'u',
      'a',
      'n',
      't',
      '中',
      '\u0001',
      '"op":0,',
      '"d":',
      '"id":"X",',
    ];
    const bases = [groupAtMessage({ id: 'E1', content: '你好' }), '{"op":0,"id":"E1","t":"T","s":3,"d":{"a":[1,2.5e3,null,true,"\\n"]}}'];
    let accepted = 0;
    for (let n = 0; n < 20_000; n++) {
      const chars = [...bases[n % bases.length]!];
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(chars.length + 1);
        if (random(2) === 0) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[random(alphabet.length)]!);
      }
      const raw = Buffer.from(chars.join(''));
      if (!isUtf8(raw)) continue;
      if (expectSound(raw) !== undefined) accepted++;
    }
    // Both sides of the scanner are reached: many mutations still read, many refused.
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });

  it('on 5 000 random JSON documents: reads every plain dispatch among them', () => {
    const leaf = (): unknown =>
      [() => random(1000) - 500, () => random(1000) / 7, () => 'é"\\\n\u0001x', () => true, () => null][random(5)]!();
    const value = (depth: number): unknown => {
      if (depth > 3 || random(3) === 0) return leaf();
      if (random(2) === 0) return Array.from({ length: random(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: random(4) }, (_, k) => [`k${k}${random(2) ? 'é' : ''}`, value(depth + 1)]));
    };
    for (let n = 0; n < 5_000; n++) {
      const body: Record<string, unknown> = { op: 0, d: value(0) };
      if (random(2)) body.id = `ID${random(1e6)}`;
      if (random(2)) body.t = 'GROUP_AT_MESSAGE_CREATE';
      if (random(2)) body.s = random(1e6);
      const text = JSON.stringify(body, null, random(2) ? 1 : undefined);
      const scanned = expectSound(Buffer.from(text));
      expect(scanned).toEqual({ id: body.id, t: body.t });
    }
  });
});
