import { runGateway } from './run.ts';

/** `pnpm start:gateway`. */
runGateway();
