// Browser tests of the store terminal (docs/terminal.md) in Debian's Chromium against one
// `simgw serve --sandbox` that global-setup.mjs starts in a fresh data dir and stops.
//
//   npm ci && npx playwright test          # SIMGW_BIN: the simgw binary to run
//
// One worker: the tests share the gateway (and its terminal T7, whose re-pairing signs
// earlier devices out), so they run one after another, each in a fresh browser context.
// The browser trusts the sandbox's own server certificate by its key (global setup puts
// its SPKI hash in SIMGW_SERVER_SPKI), not by ignoring certificate errors; set
// SIMGW_IGNORE_HTTPS_ERRORS=1 to fall back to ignoring them.
import { defineConfig } from '@playwright/test';

const spki = process.env.SIMGW_SERVER_SPKI;
const ignoreHTTPSErrors = process.env.SIMGW_IGNORE_HTTPS_ERRORS === '1';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.mjs',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: 'list',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  forbidOnly: !!process.env.CI,
  use: {
    browserName: 'chromium',
    viewport: { width: 1024, height: 768 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'Asia/Shanghai',
    colorScheme: 'light',
    ignoreHTTPSErrors,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.SIMGW_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Honoured because Playwright gives the browser its own --user-data-dir.
        ...(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : []),
      ],
    },
  },
});
