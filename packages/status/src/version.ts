/** Hookway's version as the status page shows it; a test keeps it equal to the root package.json's. */
export const HOOKWAY_VERSION = '0.1.0';
