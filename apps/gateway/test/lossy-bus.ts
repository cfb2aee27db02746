import type { BusEvent, EventLog } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';

/**
 * A real event log (in memory or on Redis) whose live subscription loses the events numbered in `drop`, as pub/sub
 * may; `resync()` is what its subscriber calls after a reconnect.
 */
export function lossyBus(inner: EventLog, drop: Set<number>): EventLog & { resync: () => void } {
  let resync = () => {};
  return Object.assign(Object.create(inner) as EventLog, {
    resync: () => resync(),
    subscribe: (bot: AppSecret, listener: (e: BusEvent) => void, options?: { onResync?: () => void }) => {
      resync = options?.onResync ?? (() => {});
      return inner.subscribe(bot, (e) => {
        if (!drop.has(e.seq)) listener(e);
      });
    },
  });
}
