/**
 * `softboard/testing`: custom `expect` matchers for firmware tests, for Jest and Vitest alike.
 *
 * Register them once, in a setup file: `softboard/testing/vitest` (Vitest) or
 * `softboard/testing/jest` (Jest) call `expect.extend` and declare the matcher types for that runner;
 * or call `expect.extend(softboardMatchers)` yourself. Then:
 * ```ts
 * expect(machine).toHaveSerialOutput('> ');
 * expect(machine).toHaveRegister('a0', 3n);
 * expect(machine).toHaveShutdownWith({ kind: 'fail', status: 3 });
 * expect(machine).toHaveMemory(0x80001000n, littleEndian(5, 4));
 * ```
 * This entry imports no test runner.
 * @packageDocumentation
 */
export {
  softboardMatchers, littleEndian, MatcherUsageError,
  type SoftboardMatchers, type MatchableMachine, type ShutdownExpectation, type ExpectedBytes,
  type MatcherContextLike, type MatcherResult, type SoftboardMatcherFn,
} from './matchers.js';
