import { beforeEach } from 'vitest';
import { abandonWaits, pendingWaits } from '@hookway/testkit';

// The waits in @hookway/testkit have no deadlines of their own; a test that runs out of time says what it awaited.
beforeEach(({ signal }) => {
  signal.addEventListener('abort', () => {
    const waits = pendingWaits();
    if (waits.length > 0 && signal.reason instanceof Error) signal.reason.message += `\nstill waiting for: ${waits.join('; ')}`;
    abandonWaits();
  });
});
