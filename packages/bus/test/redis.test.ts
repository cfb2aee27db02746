import { inject } from 'vitest';
import { RedisBus } from '../src/index.ts';
import { busContract } from './contract.ts';

busContract('RedisBus', async (limits) => {
  const bus = new RedisBus({ url: inject('redisUrl'), ...limits });
  if (!(await bus.whenReady())) throw new Error('redis did not become ready');
  return bus;
});
