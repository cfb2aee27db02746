import { describe, expect, it } from 'vitest';
import { waitingFor } from '@hookway/testkit';
import { startedByPackageManager, watchParent } from '../src/parent-watch.ts';

describe('watchParent', () => {
  it('calls onGone once, with the former parent, when the parent PID changes', async () => {
    let parent = 4242;
    const calls: number[] = [];
    let gone!: () => void;
    const noticed = new Promise<void>((resolve) => (gone = resolve));
    const watch = watchParent({
      intervalMs: 1,
      parentPid: () => parent,
      onGone: (former) => {
        calls.push(former);
        gone();
      },
    });
    try {
      parent = 1;
      await waitingFor('the change to be noticed', noticed);
      parent = 7;
      // A second change after the first must not call again: one shutdown.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(calls).toEqual([4242]);
    } finally {
      watch.close();
    }
  });

  it('never calls while the parent stays', async () => {
    let reads = 0;
    const calls: number[] = [];
    const watch = watchParent({ intervalMs: 1, parentPid: () => (reads++, 99), onGone: (p) => calls.push(p) });
    try {
      await waitingFor(
        'a few polls',
        (async () => {
          while (reads < 5) await new Promise((resolve) => setTimeout(resolve, 1));
        })(),
      );
      expect(calls).toEqual([]);
    } finally {
      watch.close();
    }
  });
});

describe('startedByPackageManager', () => {
  it.each([
    [{ npm_lifecycle_event: 'start' }, true],
    [{ npm_lifecycle_event: 'start:gateway' }, true],
    [{ npm_lifecycle_event: '' }, false],
    [{}, false],
  ])('%j → %s', (env, expected) => {
    expect(startedByPackageManager(env)).toBe(expected);
  });
});
