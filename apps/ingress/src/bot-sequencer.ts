/**
 * Keeps each bot's webhooks in acceptance order while their signatures are checked concurrently (on the verify
 * pool's threads): a webhook's next step (publishing) starts only after the step of every earlier webhook of the
 * same bot has started, whichever verdict came back first. Bots do not wait for each other.
 *
 * "Started" is what order needs, and all it needs: the event log numbers events in the order `publish` is called
 * (MemoryEventLog synchronously; RedisEventLog's commands go out on one connection in call order), so a webhook
 * does not wait for the previous one's round trip — exactly as when verification was inline.
 */
export class BotSequencer {
  /** Per bot: settles once the step of the last webhook in line has been started. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Bots with webhooks in line right now. */
  get botsWaiting(): number {
    return this.tails.size;
  }

  /**
   * Runs `step(verdict)` once `verdict` is known and every earlier `run` for `bot` has started its step. When
   * nothing of the bot's is in line and the verdict is already known (inline verification), the step runs at once,
   * with no promise in between. `verdict` must not reject (a verifier answers every outcome); a step that throws
   * rejects only its own result.
   */
  run<V, T>(bot: string, verdict: V | Promise<V>, step: (verdict: V) => T | Promise<T>): T | Promise<T> {
    const before = this.tails.get(bot);
    if (before === undefined && !(verdict instanceof Promise)) return step(verdict);
    const turn = before === undefined ? Promise.resolve(verdict) : before.then(() => verdict);
    let open!: () => void;
    /** Settles once this webhook's step has been called: the next one of the bot may go. */
    const started = new Promise<void>((resolve) => (open = resolve));
    const result = turn.then((v) => {
      open();
      return step(v);
    });
    turn.then(open, open);
    this.tails.set(bot, started);
    started.then(
      () => {
        if (this.tails.get(bot) === started) this.tails.delete(bot);
      },
      () => {},
    );
    return result;
  }
}
