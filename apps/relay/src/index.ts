export { createRelay, type Relay, type RelayDeps } from './create-relay.ts';
