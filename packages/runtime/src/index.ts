export * from './config.ts';
export * from './redact.ts';
export * from './logger.ts';
export * from './health.ts';
export * from './lifecycle.ts';
export * from './service.ts';
export * from './http-service.ts';
export * from './http-answers.ts';
