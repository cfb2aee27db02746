import { afterEach, describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import type { BotActivity } from '../src/index.ts';

let counter = 0;
/** Unique per test so implementations with shared storage (Redis) never see another test's data. */
const freshBot = () => AppSecret.of(`activity${Date.now().toString(36)}x${++counter}`);

/** The behaviour every BotActivity implementation must have. */
export function botActivityContract(name: string, openActivity: () => Promise<BotActivity>): void {
  describe(`BotActivity contract: ${name}`, () => {
    const open: BotActivity[] = [];
    const activity = async () => {
      const a = await openActivity();
      open.push(a);
      return a;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((a) => a.close()));
    });

    it('knows nothing of a bot it never heard of', async () => {
      expect(await (await activity()).standing(freshBot())).toEqual({
        validations: 0,
        lastValidationAtMs: undefined,
        lastEventAtMs: undefined,
        lastEventType: undefined,
      });
    });

    it('counts validations and keeps the last verified event, per bot', async () => {
      const a = await activity();
      const [bot, other] = [freshBot(), freshBot()];
      await a.recordValidation(bot, 1_000);
      await a.recordValidation(bot, 2_000);
      await a.recordVerifiedEvent(bot, 'C2C_MESSAGE_CREATE', 3_000);
      await a.recordVerifiedEvent(bot, 'GROUP_AT_MESSAGE_CREATE', 4_000);
      await a.recordVerifiedEvent(other, undefined, 5_000);
      expect(await a.standing(bot)).toEqual({
        validations: 2,
        lastValidationAtMs: 2_000,
        lastEventAtMs: 4_000,
        lastEventType: 'GROUP_AT_MESSAGE_CREATE',
      });
      expect(await a.standing(other)).toEqual({
        validations: 0,
        lastValidationAtMs: undefined,
        lastEventAtMs: 5_000,
        lastEventType: undefined,
      });
    });

    it('never moves the last event back (two writers, one late)', async () => {
      const a = await activity();
      const bot = freshBot();
      await a.recordVerifiedEvent(bot, 'C2C_MESSAGE_CREATE', 9_000);
      await a.recordVerifiedEvent(bot, 'GROUP_AT_MESSAGE_CREATE', 8_000);
      expect(await a.standing(bot)).toMatchObject({ lastEventAtMs: 9_000, lastEventType: 'C2C_MESSAGE_CREATE' });
    });

    it('tells one AppSecret object from another by value', async () => {
      const a = await activity();
      const bot = freshBot();
      await a.recordValidation(bot, 7);
      expect((await a.standing(AppSecret.of(bot.reveal()))).validations).toBe(1);
    });
  });
}
