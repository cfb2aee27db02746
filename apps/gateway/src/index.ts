export { createGateway, type Gateway, type GatewayDeps, type GatewayStats } from './create-gateway.ts';
export { parseUpgradeTarget, type UpgradeTarget } from './upgrade-request.ts';
export { createGatewayService, gatewayDeps } from './service.ts';
export { MemorySessionStore, RedisSessionStore, openSessionStore, type SessionStore } from './official/session-store.ts';
export { runGateway } from './run.ts';
