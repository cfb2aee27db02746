export { createIngress, type Ingress, type IngressDeps, type IngressStats } from './create-ingress.ts';
export { handleWebhook, type WebhookReply, type WebhookOutcome } from './webhook.ts';
export { createIngressService, ingressDeps } from './service.ts';
export { runIngress } from './run.ts';
export {
  createVerifier,
  createVerifyPool,
  inlineVerifier,
  verifyThreadCount,
  type DispatchVerifier,
  type VerifierVerdict,
} from './verifier.ts';
export { BotSequencer } from './bot-sequencer.ts';
