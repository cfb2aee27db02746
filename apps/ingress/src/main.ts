import { runIngress } from './run.ts';

/** `pnpm start:ingress`. */
runIngress();
