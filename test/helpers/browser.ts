/**
 * Headless Chromium for the UI tests: Debian's `chromium` (apt, installed by scripts/provision.sh)
 * driven through playwright-core. Never a browser download: playwright-core has none, and the
 * executable is given explicitly (CHROMIUM_PATH overrides /usr/bin/chromium). The flags keep it
 * off the network beyond the pages it is sent to (no sync, no component updates, no background
 * fetches, no QUIC) and let it run as root (--no-sandbox).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './paths';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where screenshots and page dumps go (gitignored). */
export const ARTIFACTS_DIR = join(repoRoot, 'test/artifacts');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium (\`npm run provision\` or \`apt-get install -y chromium\`), ` +
        'or set CHROMIUM_PATH to a Chromium executable. The tests never download a browser.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A full-page screenshot in test/artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
