/**
 * The bench's self-check scripts (lean-http-check.ts, lean-ws-check.ts): each check runs at once; the first that throws
 * prints `<name>: FAILED: <what>` with the error and exits 1, so a broken generator never measures anything.
 */
export function selfChecks(name: string): { check: (what: string, fn: () => void) => void; passed: () => number } {
  let passed = 0;
  return {
    check(what, fn) {
      try {
        fn();
        passed++;
      } catch (err) {
        process.stderr.write(`${name}: FAILED: ${what}\n${String(err)}\n`);
        process.exit(1);
      }
    },
    passed: () => passed,
  };
}
