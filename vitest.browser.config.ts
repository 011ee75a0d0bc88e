import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: the report in a real Chromium (Debian's package); `npm test` runs without it. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
