/**
 * `softboard/testing/vitest`: registers softboard's matchers with Vitest's `expect` and declares their
 * types on Vitest's `Assertion`. Load it as a setup file (`test.setupFiles: ['softboard/testing/vitest']`)
 * or import it at the top of a test file.
 * @packageDocumentation
 */
import { expect } from 'vitest';
import { softboardMatchers, type SoftboardMatchers } from './matchers.js';

expect.extend(softboardMatchers);

// Vitest 3.2 and later type `expect(x).*` (and `expect.extend`) from `Matchers`; earlier versions from
// `Assertion`. Both are declared: the members are the same, so they merge without conflict.
declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
  interface Matchers<T = any> extends SoftboardMatchers<void> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
  interface Assertion<T = any> extends SoftboardMatchers<void> {}
}

export { softboardMatchers };
export type { SoftboardMatchers };
