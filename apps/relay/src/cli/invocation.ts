/** Set to `true` by the bundler (scripts/build.ts `define`) in dist/hookway.mjs; undeclared everywhere else. */
declare const HOOKWAY_BUNDLE: boolean | undefined;

/** True inside dist/hookway.mjs, false when run from the sources (pnpm, tsx, tests). */
export const BUNDLED = typeof HOOKWAY_BUNDLE === 'boolean' && HOOKWAY_BUNDLE;

/**
 * How the person at the terminal runs a command, for help texts and hints: the built file needs no pnpm, the
 * sources need no build. `${HOOKWAY} keys list` is a command they can paste.
 */
export const hookwayCommand = (bundled: boolean) => (bundled ? 'node dist/hookway.mjs' : 'pnpm hookway');
export const HOOKWAY = hookwayCommand(BUNDLED);
