import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Registers toHaveSerialOutput, toHaveRegister, toHaveShutdownWith and toHaveMemory (and their types).
    setupFiles: ['softboard/testing/vitest'],
  },
});
