import { runRelay } from './run-relay.ts';

/** `pnpm start`. */
runRelay();
