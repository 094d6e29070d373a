/**
 * `softboard/testing/jest`: registers softboard's matchers with Jest's global `expect` and declares their
 * types on `jest.Matchers` (the `@types/jest` globals). Load it from Jest's `setupFilesAfterEnv`
 * (`"setupFilesAfterEnv": ["softboard/testing/jest"]`); it imports nothing from Jest.
 * @packageDocumentation
 */
import { MatcherUsageError, softboardMatchers, type SoftboardMatchers } from './matchers.js';

const g = globalThis as { expect?: { extend?: (matchers: object) => void } };
if (typeof g.expect?.extend !== 'function') {
  throw new MatcherUsageError('softboard/testing/jest: there is no global `expect` to extend; load this module from Jest\'s setupFilesAfterEnv');
}
g.expect.extend(softboardMatchers);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> extends SoftboardMatchers<R> {}
  }
}

export { softboardMatchers };
export type { SoftboardMatchers };
