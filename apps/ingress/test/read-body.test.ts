import { describe, expect, it } from 'vitest';
import { ownedBody } from '../src/read-body.ts';

const exact = (b: Buffer) => b.byteOffset === 0 && b.buffer.byteLength === b.length;

describe('ownedBody: the body kept in the history owns exactly its bytes', () => {
  const big = Buffer.alloc(64 * 1024, 0x61);
  const own = Buffer.allocUnsafeSlow(8);
  own.write('{"op":0}');
  it.each([
    ['one chunk that owns its memory', [own], true],
    ['a slice of a bigger read', [big.subarray(100, 700)], false],
    ['small chunks (Buffer.concat would take a shared pool slab)', [Buffer.from('{"op"'), Buffer.from(':0}')], false],
    ['no chunk at all', [], false],
  ])('%s', (_case, chunks, same) => {
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    const body = ownedBody(chunks, bytes);
    expect(exact(body)).toBe(true);
    expect(body.equals(Buffer.concat(chunks))).toBe(true);
    expect(body === chunks[0]).toBe(same);
  });
});
