import { describe, expect, it } from 'vitest';
import { routedFields, webhookEnvelopeSchema } from '../src/index.ts';

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
