export { createGateway, type Gateway, type GatewayDeps } from './create-gateway.ts';
export { parseUpgradeTarget, type UpgradeTarget } from './upgrade-request.ts';
