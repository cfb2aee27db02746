export { createRelay, memoryStores, type Relay, type RelayDeps, type RelayStores } from './create-relay.ts';
