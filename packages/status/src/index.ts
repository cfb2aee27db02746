export * from './activity.ts';
export * from './replica-reports.ts';
export * from './merge.ts';
export * from './reporter.ts';
export * from './status-http.ts';
export * from './create-status.ts';
export { HOOKWAY_VERSION } from './version.ts';
