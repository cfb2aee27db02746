import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@hookway/testkit';
import { Op, parseWebhookBody, routedFields, webhookEnvelopeSchema, type ParsedWebhookBody } from '../src/index.ts';

/** Bodies as JSON text, parsed as the webhook parses them: every shape the fast path must agree with zod on. */
const BODIES = [
  '{"op":0,"id":"GROUP_AT_MESSAGE_CREATE:abc","t":"GROUP_AT_MESSAGE_CREATE","s":3,"d":{"x":1}}',
  '{"op":0,"d":{}}',
  '{"op":13,"d":{"plain_token":"a","event_ts":"1"}}',
  '{"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"n"}}',
  '{"op":0,"id":"","d":{}}',
  `{"op":0,"id":"${'x'.repeat(512)}","d":{}}`,
  `{"op":0,"id":"${'x'.repeat(513)}","d":{}}`,
  `{"op":0,"t":"${'t'.repeat(128)}","d":{}}`,
  `{"op":0,"t":"${'t'.repeat(129)}","d":{}}`,
  '{"op":0,"t":"","d":{}}',
  '{"op":0.5,"d":{}}',
  '{"op":"0","d":{}}',
  '{"op":9007199254740992,"d":{}}',
  '{"op":-9007199254740991,"d":{}}',
  '{"op":0,"s":1.5,"d":{}}',
  '{"op":0,"s":null,"d":{}}',
  '{"op":0,"id":null,"d":{}}',
  '{"op":0,"id":7,"d":{}}',
  '{"op":0,"t":false,"d":{}}',
  '{"d":{}}',
  '{"op":0}',
  '{"op":0,"d":null}',
  '{"op":null}',
  '{"op":0,"__proto__":{"id":5}}',
  '{"op":0,"d":1,"__proto__":{"id":5,"d":1}}',
  '[{"op":0}]',
  '[]',
  '"op"',
  '0',
  'null',
  '{"op":0,"id":"\\ud800","d":{}}',
];

describe('routedFields', () => {
  it.each(BODIES)('answers as webhookEnvelopeSchema does for %s', (text) => {
    const value: unknown = JSON.parse(text);
    const schema = webhookEnvelopeSchema.safeParse(value);
    const fields = routedFields(value);
    expect(fields.success).toBe(schema.success);
    if (schema.success && fields.success) {
      expect(fields.data).toEqual({ op: schema.data.op, id: schema.data.id, t: schema.data.t });
    } else if (!schema.success && !fields.success) {
      expect(fields.error.issues).toEqual(schema.error.issues);
    }
  });
});

/** What parseWebhookBody must agree with: JSON.parse of the UTF-8 text, then routedFields. */
function reference(raw: Buffer): ParsedWebhookBody {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { json: false };
  }
  const envelope = routedFields(value);
  return { json: true, envelope, value: envelope.success && envelope.data.op === Op.Dispatch ? undefined : value };
}

describe('parseWebhookBody (latin1 first) agrees with a UTF-8 JSON.parse', () => {
  const longChineseId = '中'.repeat(200); // 600 bytes, 200 characters: within id's 512
  const cases: [string, string][] = [
    ['a dispatch with Chinese text in d', '{"op":0,"id":"E1","t":"GROUP_AT_MESSAGE_CREATE","d":{"content":"你好 🙂"}}'],
    ['a dispatch with no id or t', '{"op":0,"d":{}}'],
    ['non-ASCII in t', '{"op":0,"id":"E1","t":"事件","d":{}}'],
    ['non-ASCII in id', '{"op":0,"id":"é1","t":"T","d":{}}'],
    ['a non-ASCII id long in bytes, short in characters', `{"op":0,"id":"${longChineseId}","d":{}}`],
    ['an escaped non-ASCII id', '{"op":0,"id":"\\u00e9","d":{}}'],
    ['a non-ASCII key', '{"op":0,"键":"值","d":{}}'],
    ['op 13 with non-ASCII plain_token', '{"op":13,"d":{"plain_token":"令牌","event_ts":"1"}}'],
    ['a check op', '{"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"abcdefghijklmnopqrstuvwxyz"}}'],
    ['duplicate op keys: the last wins', '{"op":13,"op":0,"d":{}}'],
    ['a wrong type for t', '{"op":0,"t":5,"d":{}}'],
    ['no d', '{"op":0,"id":"E1"}'],
    ['a non-ASCII character outside strings', '{"op":0,"d":{}}中'],
    ['non-ASCII where a value should be', '{"op":0,"d":中}'],
    ['an unterminated string with non-ASCII', '{"op":0,"d":"中'],
    ['not JSON', 'hello'],
    ['an array', '[0]'],
  ];
  it.each(cases)('%s', (_name, text) => {
    const raw = Buffer.from(text, 'utf8');
    expect(isUtf8(raw)).toBe(true);
    expect(parseWebhookBody(raw)).toEqual(reference(raw));
  });

  it('agrees on 5 000 random UTF-8 mutations of an event', () => {
    const alphabet = ['"', '\\', '{', '}', '[', ']', ':', ',', '0', '-', 'e', ' ', 'u', '中', 'é', '🙂', '\u0001', 'n'];
    const random = seededRandom(7);
    const base = [...'{"op":0,"id":"E1","t":"GROUP_AT_MESSAGE_CREATE","d":{"content":"你好","n":[1,2.5e3,null,true]}}'];
    let parsedAsJson = 0;
    for (let i = 0; i < 5_000; i++) {
      const chars = [...base];
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(chars.length);
        if (random(2) === 0) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[random(alphabet.length)]!);
      }
      const raw = Buffer.from(chars.join(''), 'utf8');
      const expected = reference(raw);
      if (expected.json) parsedAsJson++;
      expect(parseWebhookBody(raw)).toEqual(expected);
    }
    // The mutations reach both sides of the grammar.
    expect(parsedAsJson).toBeGreaterThan(200);
    expect(parsedAsJson).toBeLessThan(4_800);
  });
});
