import { describe, expect, it } from 'vitest';
import { IDLE_CLIENTS_KEPT, BodyBudget, clientKey } from '../src/body-budget.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('BodyBudget', () => {
  it.each<[string, number, number, number]>([
    // total, MAX_BODY_BYTES → one client's share
    ['the default: an eighth of 32 MiB', 32 * MiB, MiB, 4 * MiB],
    ['never less than one maximal body', 4 * MiB, MiB, MiB],
    ['never more than the total', MiB, MiB, MiB],
    ['a large budget', 1024 * MiB, MiB, 128 * MiB],
  ])('per-client share: %s', (_case, total, maxBody, share) => {
    expect(new BodyBudget(total, maxBody).perClientBytes).toBe(share);
  });

  // Steps on a budget of 8 MiB total, 2 MiB per client (an eighth would be 1 MiB; MAX_BODY_BYTES is 2 MiB).
  type Step = [action: 'reserve', client: string, bytes: number, fits: boolean] | [action: 'release', index: number];
  it.each<[string, Step[], number]>([
    [
      'a client fills its share, and no more',
      [
        ['reserve', '10.0.0.1', MiB, true],
        ['reserve', '10.0.0.1', MiB, true],
        ['reserve', '10.0.0.1', 1, false],
      ],
      2 * MiB,
    ],
    [
      'another client still fits when one is full',
      [
        ['reserve', '10.0.0.1', 2 * MiB, true],
        ['reserve', '10.0.0.2', MiB, true],
      ],
      3 * MiB,
    ],
    [
      'the total is the limit once enough clients hold their share',
      [
        ['reserve', '10.0.0.1', 2 * MiB, true],
        ['reserve', '10.0.0.2', 2 * MiB, true],
        ['reserve', '10.0.0.3', 2 * MiB, true],
        ['reserve', '10.0.0.4', 2 * MiB, true],
        ['reserve', '10.0.0.5', 1, false],
      ],
      8 * MiB,
    ],
    [
      'a release gives the share back',
      [
        ['reserve', '10.0.0.1', 2 * MiB, true],
        ['release', 0],
        ['reserve', '10.0.0.1', 2 * MiB, true],
      ],
      2 * MiB,
    ],
    [
      'releasing twice gives back once',
      [
        ['reserve', '10.0.0.1', MiB, true],
        ['reserve', '10.0.0.1', MiB, true],
        ['release', 0],
        ['release', 0],
        ['reserve', '10.0.0.1', 2 * MiB, false],
      ],
      MiB,
    ],
    [
      'a zero-byte hold always fits',
      [
        ['reserve', '10.0.0.1', 2 * MiB, true],
        ['reserve', '10.0.0.1', 0, true],
      ],
      2 * MiB,
    ],
    [
      'one IPv6 /64 is one client',
      [
        ['reserve', '2001:db8:1:2::a', 2 * MiB, true],
        ['reserve', '2001:db8:1:2:ffff::b', 1, false],
        ['reserve', '2001:db8:1:3::a', 1, true],
      ],
      2 * MiB + 1,
    ],
  ])('%s', (_case, steps, heldAtEnd) => {
    const budget = new BodyBudget(8 * MiB, 2 * MiB);
    const holds: ReturnType<BodyBudget['reserve']>[] = [];
    for (const step of steps) {
      if (step[0] === 'release') holds[step[1]]?.release();
      else {
        const hold = budget.reserve(step[1], step[2]);
        expect(hold !== undefined, `${step[1]} ${step[2]}`).toBe(step[3]);
        holds.push(hold);
      }
    }
    expect(budget.bytesHeld).toBe(heldAtEnd);
    for (const hold of holds) hold?.release();
    expect([budget.bytesHeld, budget.clientsHolding]).toEqual([0, 0]);
  });

  it('grows a chunked body’s hold as it arrives, within the client’s share', () => {
    const budget = new BodyBudget(8 * MiB, 2 * MiB);
    const hold = budget.reserve('10.0.0.1', 0)!;
    expect(hold.cover(MiB)).toBe(true);
    expect(hold.cover(MiB / 2)).toBe(true);
    expect(budget.bytesHeld).toBe(MiB);
    expect(hold.cover(2 * MiB)).toBe(true);
    expect(hold.cover(2 * MiB + 1)).toBe(false);
    expect(budget.bytesHeld).toBe(2 * MiB);
    hold.release();
    expect(hold.cover(1)).toBe(false);
    expect(budget.bytesHeld).toBe(0);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0000:0000:ffff:0000:0000:0002', '2001:db8:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b:1::192.0.2.1', '64:ff9b:1:0::/64'],
    ['1:2::5:1.2.3.4', '1:2:0:0::/64'],
    ['not an address', 'not an address'],
    ['203.0.113.9%eth0', '203.0.113.9'],
  ])('%s → %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe('clients whose holds ended', () => {
  it('are kept (no map rebuild per webhook) but never more than IDLE_CLIENTS_KEPT of them', () => {
    const budget = new BodyBudget(8 * MiB, 2 * MiB);
    for (let n = 0; n < 3 * IDLE_CLIENTS_KEPT; n++) {
      const hold = budget.reserve(`10.1.${n >> 8}.${n & 255}`, 1000)!;
      expect(budget.clientsHolding).toBe(1);
      hold.release();
      expect(budget.clientsHolding).toBe(0);
      expect(budget.clientsKnown).toBeLessThanOrEqual(IDLE_CLIENTS_KEPT + 1);
    }
    expect(budget.clientsKnown).toBeGreaterThan(0);
    // A client coming back reuses its entry, and its share is counted afresh.
    const first = budget.reserve('10.9.9.9', 2 * MiB)!;
    first.release();
    const again = budget.reserve('10.9.9.9', 2 * MiB);
    expect(again).toBeDefined();
    expect(budget.reserve('10.9.9.9', 1)).toBeUndefined();
    expect([budget.bytesHeld, budget.clientsHolding]).toEqual([2 * MiB, 1]);
    again!.release();
    expect([budget.bytesHeld, budget.clientsHolding]).toEqual([0, 0]);
  });
});
