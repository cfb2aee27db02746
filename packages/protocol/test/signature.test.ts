import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { deriveSeed, keysForSecret, signCallbackValidation, signDispatch, verifyDispatch } from '../src/index.ts';

// Vectors from ../shared/reference/qq-protocol.md §2.7 (verified there with Python `cryptography`).
const V1 = {
  secret: 'DG5g3B4j9X2KOErG',
  seedHex: '444735673342346a3958324b4f457247444735673342346a3958324b4f457247',
  publicKeyHex: '8b28ded5630f9051c205dd04c6ec56ad0b08b8812b2fe30ee9aece0ab41926f3',
  eventTs: '1725442341',
  plainToken: 'Arq0D5A61EgUu4OxUvOp',
  signature:
    '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706',
};
const V2 = {
  secret: 'naOC0ocQE3shWLAfffVLB1rhYPG7',
  seed: 'naOC0ocQE3shWLAfffVLB1rhYPG7naOC',
  publicKeyHex: 'd7c362fe78aef81ff23287b493628b5db02a3c4fe30b215e4d19609b5d76673a',
};
const V3 = {
  secret: '123456abcdef',
  seed: '123456abcdef123456abcdef123456ab',
  publicKeyHex: '1c3039fbc8134a9df2a09f47cf4bf9303440988cec3b22056b62470b85fa80a7',
  timestamp: '1728981195',
  body: '{"id":"ROBOT1.0_veoihSEXDc8Q.g-6eLpNIa11bH8MisOjn-m-LKxCPntMk6exUXgcWCGpVO7L2QKTNZzjZzFFDSbiOFcqAPWyVA!!","content":"哦一下","timestamp":"2024-10-15T16:33:15+08:00","author":{"id":"675860273","user_openid":"675860273"}}',
  signature:
    'e949b5b94ef4103df903fb031d1d16e358db3db83e79e117edd404c8508be3ce8a76d7bad1bed353194c126a1a5915b4ad8b5288c1191cc53a12acffccd82004',
};
const V4 = {
  secret: 'DG5g3B4j9X2KOErG',
  timestamp: '1725442400',
  body: '{"op":0,"id":"GROUP_AT_MESSAGE_CREATE:k2vq0ghb1s7tfe4ua9xw3nrzyjl6ipmd5c8ob1qhdt0uw7ae2fz","d":{"id":"ROBOT1.0_kX9.Tr2dQ0mB4wYp7Lz8aVgS3nHc1fEj6uKqR5tM!","content":" /weather 北京","timestamp":"2024-09-04T17:33:20+08:00","author":{"id":"E4F4AEA33253A2797FB897C50B81D7ED","member_openid":"E4F4AEA33253A2797FB897C50B81D7ED","union_openid":"E4F4AEA33253A2797FB897C50B81D7ED"},"group_id":"C9F778FE6ADF9D1D1DBE395BF744A33A","group_openid":"C9F778FE6ADF9D1D1DBE395BF744A33A","message_scene":{"source":"default"},"message_type":0},"t":"GROUP_AT_MESSAGE_CREATE"}',
  bodySha256: 'ffa18a345084490cc4195cefb5997bd9f647844d0aa18422457a3e2f7de4b6aa',
  signature:
    '2d6f6094b2554f48577f3d2a146e9a0074bad7f579684951885e80fcbc25de361e56b7303e472ce826441c87052cdf0daf26188d0544da994db9995778450805',
};

const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('key derivation', () => {
  it('V1: 16-byte secret doubles into the seed and gives the documented public key', () => {
    expect(deriveSeed(V1.secret).toString('hex')).toBe(V1.seedHex);
    expect(keysForSecret(V1.secret).publicKeyHex).toBe(V1.publicKeyHex);
  });
  it('V2: 28-byte secret is extended with its own prefix', () => {
    expect(deriveSeed(V2.secret).toString('utf8')).toBe(V2.seed);
    expect(keysForSecret(V2.secret).publicKeyHex).toBe(V2.publicKeyHex);
  });
  it('V3: 12-byte secret repeats until 32 bytes (one padding pass would be wrong)', () => {
    expect(deriveSeed(V3.secret).toString('utf8')).toBe(V3.seed);
    expect(keysForSecret(V3.secret).publicKeyHex).toBe(V3.publicKeyHex);
  });
  it('secrets of 32 bytes or more keep their first 32 bytes', () => {
    const long = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    expect(deriveSeed(long).toString('utf8')).toBe(long.slice(0, 32));
  });
  it('refuses an empty secret', () => {
    expect(() => deriveSeed('')).toThrow(/empty/);
  });
});

describe('op 13 callback validation', () => {
  it('V1: reproduces the official signature byte for byte', () => {
    expect(signCallbackValidation(V1.secret, V1.eventTs, V1.plainToken)).toBe(V1.signature);
  });
});

describe('op 0 dispatch verification', () => {
  it('V3: accepts the official SDK test vector', () => {
    expect(verifyDispatch(V3.secret, V3.timestamp, V3.signature, utf8(V3.body))).toEqual({ ok: true });
  });
  it('V4: accepts the full-envelope vector and signs it identically', () => {
    const body = utf8(V4.body);
    expect(body.length).toBe(556);
    expect(createHash('sha256').update(body).digest('hex')).toBe(V4.bodySha256);
    expect(verifyDispatch(V4.secret, V4.timestamp, V4.signature, body)).toEqual({ ok: true });
    expect(signDispatch(V4.secret, V4.timestamp, body)).toBe(V4.signature);
  });
  it('V4 tamper: a different timestamp is rejected', () => {
    expect(verifyDispatch(V4.secret, '1725442401', V4.signature, utf8(V4.body))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
  it('V4 tamper: a changed body (北京→上海) is rejected', () => {
    const tampered = utf8(V4.body.replace('北京', '上海'));
    expect(verifyDispatch(V4.secret, V4.timestamp, V4.signature, tampered).ok).toBe(false);
  });
  it('V3 tamper: the wrong secret is rejected', () => {
    expect(verifyDispatch(V1.secret, V3.timestamp, V3.signature, utf8(V3.body)).ok).toBe(false);
  });
  it('accepts upper-case hex', () => {
    expect(verifyDispatch(V3.secret, V3.timestamp, V3.signature.toUpperCase(), utf8(V3.body)).ok).toBe(true);
  });
  it.each([
    ['missing signature', V3.timestamp, undefined, 'missing_signature'],
    ['short signature', V3.timestamp, V3.signature.slice(2), 'malformed_signature'],
    ['non-hex signature', V3.timestamp, 'zz' + V3.signature.slice(2), 'malformed_signature'],
    ['missing timestamp', undefined, V3.signature, 'missing_timestamp'],
    ['non-numeric timestamp', '17289811950x', V3.signature, 'malformed_timestamp'],
  ])('rejects %s with a named reason', (_name, ts, sig, reason) => {
    expect(verifyDispatch(V3.secret, ts, sig, utf8(V3.body))).toEqual({ ok: false, reason });
  });
  it('rejects a signature whose S has high bits set (malleability pre-check)', () => {
    const sig = Buffer.from(V3.signature, 'hex');
    sig[63] = sig[63]! | 0xe0;
    expect(verifyDispatch(V3.secret, V3.timestamp, sig.toString('hex'), utf8(V3.body))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('cross-check against tweetnacl (an independent Ed25519 implementation)', () => {
  const secrets = [V1.secret, V2.secret, V3.secret, 'x7', 'A'.repeat(40), '短秘密'];
  it.each(secrets)('secret %s: same public key, and each verifies the other’s signatures', (secret) => {
    const pair = nacl.sign.keyPair.fromSeed(new Uint8Array(deriveSeed(secret)));
    expect(Buffer.from(pair.publicKey).toString('hex')).toBe(keysForSecret(secret).publicKeyHex);

    const body = utf8(`{"op":0,"id":"X:${secret}","d":{"content":"你好"}}`);
    const ts = '1725442400';
    const message = Buffer.concat([utf8(ts), body]);
    const naclSig = Buffer.from(nacl.sign.detached(new Uint8Array(message), pair.secretKey)).toString('hex');
    expect(verifyDispatch(secret, ts, naclSig, body)).toEqual({ ok: true });

    const ourSig = Buffer.from(signDispatch(secret, ts, body), 'hex');
    expect(nacl.sign.detached.verify(new Uint8Array(message), new Uint8Array(ourSig), pair.publicKey)).toBe(true);
  });
});
