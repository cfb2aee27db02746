import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { groupAtMessage, WebhookSender, waitingFor } from '@hookway/testkit';
import { relayFixture, SECRET } from './harness.ts';

/** Debian's chromium (`.ci/run` installs it); the test drives it through playwright-core, no downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const TOKEN = 'browser-status-token-0123456789';

const { start, connect } = relayFixture();
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

describe('the status page in a real headless browser', { timeout: 90_000 }, () => {
  it('logs in through the form, then shows a signed event as it arrives (screenshot in test-artifacts/)', async () => {
    const r = await start({ adminToken: TOKEN });
    browser = await waitingFor(
      'chromium to start',
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // playwright-core starts it with a fresh temporary profile (user-data-dir) of its own.
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${r.baseUrl}/status`);
    await page.fill('input[name="token"]', 'a-wrong-token-0123456789');
    await Promise.all([page.waitForURL(`${r.baseUrl}/status/login`), page.click('button[type="submit"]')]);
    expect(await page.textContent('#login-error')).toContain('Wrong token');
    // That answer was a 401, which the console reports as a failed resource; from here on nothing may fail.
    problems.length = 0;
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${r.baseUrl}/status`), page.click('button[type="submit"]')]);
    await waitingFor('the page to load its data', page.waitForSelector('body[data-loaded="1"]'));
    expect(await page.textContent('#replicas')).toContain('relay');

    const client = await connect(r, `/ws?secret=${SECRET}`);
    const sent = await new WebhookSender(r.baseUrl, SECRET).dispatch(groupAtMessage({ content: 'hello from the browser test' }), {
      headers: { 'x-bot-appid': '102000001' },
    });
    expect(sent.status).toBe(200);
    await client.waitForFrames(1);
    await new WebhookSender(r.baseUrl, SECRET).dispatch(groupAtMessage(), { signature: '0'.repeat(128) });

    // The page refreshes itself: wait for the DOM to show the event, the client and the rejection, not for time.
    const card = page.locator('section.bot', { hasText: 'GROUP_AT_MESSAGE_CREATE' });
    await waitingFor('the event on the page', card.filter({ hasText: 'bad_signature' }).waitFor());
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('102000001');
    expect(text).toMatch(/raw\s*127\.0\.0\.1/);
    expect(text).not.toContain(SECRET);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });
    expect(problems).toEqual([]);

    // Logging out takes the cookie away: back to the form.
    await Promise.all([page.waitForURL(`${r.baseUrl}/status`), page.click('header button[type="submit"]')]);
    await page.waitForSelector('input[name="token"]');
  });
});
