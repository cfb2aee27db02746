export * from './opcodes.ts';
export * from './intents.ts';
export * from './envelope.ts';
export * from './secret.ts';
export * from './signature.ts';
export * from './close-codes.ts';
export * from './control-frames.ts';
export * from './endpoint-url.ts';
