import { describe, expect, it } from 'vitest';
import { EVENT_INTENT, Intent, intentOf } from '../src/index.ts';

describe('event → intent table', () => {
  it('maps group and C2C events to GROUP_AND_C2C_EVENT (1<<25)', () => {
    expect(Intent.GROUP_AND_C2C_EVENT).toBe(33554432);
    for (const t of ['GROUP_AT_MESSAGE_CREATE', 'C2C_MESSAGE_CREATE', 'FRIEND_ADD', 'GROUP_ADD_ROBOT']) {
      expect(intentOf(t)).toBe(Intent.GROUP_AND_C2C_EVENT);
    }
  });
  it('maps guild events per the docs', () => {
    expect(intentOf('AT_MESSAGE_CREATE')).toBe(1 << 30);
    expect(intentOf('DIRECT_MESSAGE_CREATE')).toBe(1 << 12);
    expect(intentOf('GUILD_CREATE')).toBe(1);
    expect(intentOf('INTERACTION_CREATE')).toBe(1 << 26);
  });
  it('gives no intent for READY, RESUMED and unknown types', () => {
    expect(intentOf('READY')).toBeUndefined();
    expect(intentOf('RESUMED')).toBeUndefined();
    expect(intentOf('SOMETHING_NEW')).toBeUndefined();
  });
  it('never lists an event under two intents', () => {
    const all = [...EVENT_INTENT.keys()];
    expect(new Set(all).size).toBe(all.length);
  });
});
