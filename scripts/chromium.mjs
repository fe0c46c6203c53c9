// Launches the e2e tests' Chromium (scripts/browser.mjs: CHROMIUM_PATH, Playwright's, then
// chromium / chromium-browser / google-chrome) with the same flags, for the bench and screenshot
// scripts. Without a browser it stops with the same one message as the tests.
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from './browser.mjs';

export { CHROMIUM_ARGS };

export const launchChromium = () => chromium.launch({ executablePath: chromiumPathOrExit(), args: CHROMIUM_ARGS });
