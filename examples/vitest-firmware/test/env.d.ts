// Types of the matchers that vitest.config.ts registers through setupFiles.
/// <reference types="softboard/testing/vitest" />
