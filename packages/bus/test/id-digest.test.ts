import { describe, expect, it } from 'vitest';
import { murmur3x86128, seededIdDigest } from '../src/id-digest.ts';

/**
 * MurmurHash3 x86_128 of a string's UTF-16LE bytes, against the reference implementation's values: Python's mmh3
 * 5.3.0, `mmh3.hash_bytes(text.encode('utf-16-le', 'surrogatepass'), seed, x64arch=False)` read as four little-endian
 * signed 32-bit words. Every tail length 0–7 code units, ASCII, CJK, a surrogate pair, a lone surrogate, seeds 0 and
 * one with the top bit set.
 */
const vectors: readonly (readonly [string, number, readonly number[]])[] = [
  ['', 0, [0, 0, 0, 0]],
  ['', 2538058380, [-138488415, 1532455452, 1532455452, 1532455452]],
  ['a', 0, [54243734, -856731679, -856731679, -856731679]],
  ['a', 2538058380, [621921622, -1512441437, -1512441437, -1512441437]],
  ['ab', 0, [638564691, -1356679427, -1356679427, -1356679427]],
  ['ab', 2538058380, [542668557, -29319969, -29319969, -29319969]],
  ['abc', 0, [727422883, 553082805, 1343406772, 1343406772]],
  ['abc', 2538058380, [-1801573249, 1735966869, 1047742503, 1047742503]],
  ['abcdefg', 0, [-2061509026, -132474197, 708124466, -91321177]],
  ['abcdefg', 2538058380, [437197945, -1064038934, -1322082973, -1918614999]],
  ['abcdefgh', 0, [1815443029, -1913087839, -1486019827, 1108635924]],
  ['abcdefgh', 2538058380, [214939363, 1753691036, 1867188418, -930303040]],
  ['abcdefghi', 0, [396613426, 938402950, 80977633, -293638692]],
  ['abcdefghi', 2538058380, [-1085787656, 1166529143, 174478632, -567213984]],
  ['abcdefghijklmno', 0, [1831483475, 2131906834, 1837838613, -1130834045]],
  ['abcdefghijklmno', 2538058380, [2096911124, -1739610972, 1003900305, 1416005676]],
  [
    'GROUP_AT_MESSAGE_CREATE:yit7pdisg1ugi2ejzlc2ftxchdbcvuwyprx6jusrlcb3ifop7ft9skolij8yha',
    0,
    [-86914525, 91451217, 786672685, 743181096],
  ],
  [
    'GROUP_AT_MESSAGE_CREATE:yit7pdisg1ugi2ejzlc2ftxchdbcvuwyprx6jusrlcb3ifop7ft9skolij8yha',
    2538058380,
    [488201168, 437024119, -445513939, -1645034493],
  ],
  ['\u4e8b\u4ef6', 0, [-1458525198, -1241996804, -1241996804, -1241996804]],
  ['\u4e8b\u4ef6', 2538058380, [527456843, -1482479477, -1482479477, -1482479477]],
  ['\ud83d\ude00 emoji', 0, [-310007624, -1590556417, 1996997774, 1604787744]],
  ['\ud83d\ude00 emoji', 2538058380, [452872875, -183084784, -1785599441, 1579973771]],
  ['lone \ud800', 0, [156790968, 818116022, -264505336, -1885222808]],
  ['lone \ud800', 2538058380, [-909933215, -1578640649, -191512039, -2110096364]],
  ['\u00e9\uffff\u0100', 0, [1216451304, -1685047862, -172860032, -172860032]],
  ['\u00e9\uffff\u0100', 2538058380, [-1124611335, 1164234912, 1529318890, 1529318890]],
];

describe('the dedup window’s id digest', () => {
  for (const [text, seed, words] of vectors) {
    it(`MurmurHash3 x86_128 of ${JSON.stringify(text)} with seed ${seed}`, () => {
      const into = new Int32Array(4);
      murmur3x86128(text, seed, into);
      expect([...into]).toEqual(words);
    });
  }

  it('digests equal ids alike and different ids apart, in one process', () => {
    const digestOf = (id: string) => {
      const into = new Int32Array(4);
      seededIdDigest(id, into);
      return [...into].join();
    };
    expect(digestOf('GROUP_AT_MESSAGE_CREATE:abc')).toBe(digestOf(['GROUP_AT_MESSAGE_CREATE', 'abc'].join(':')));
    const ids = Array.from({ length: 100_000 }, (_, n) => `GROUP_AT_MESSAGE_CREATE:n${n}`);
    expect(new Set(ids.map(digestOf)).size).toBe(ids.length);
  });
});
