import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { repoRoot, testImages } from '../support/env';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(300_000);

/** Debian's Chromium, which scripts/stack.sh installs (overridable to check the message when it is missing). */
const CHROMIUM = process.env.IIB_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots for a human to look at; git-ignored (see the README). */
const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'ui');
/** A label that would run if the page ever put data into markup. */
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

interface Sample {
  state: string | null;
  logLength: number;
}

describe('the builds page, in Chromium, against the four services', () => {
  let browser: Browser;
  let system: RunningSystem;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing (${CHROMIUM}): run bash scripts/stack.sh up`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
    });
    system = await startSystem();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Anything but the gateway answering would be a CDN. (ReDoc's footer asks for its logo on a
    // CDN: the docs page's Content-Security-Policy refuses it before it leaves, so no answer comes.)
    page.on('response', (res) => {
      const url = res.url();
      if (!url.startsWith(system.api.replace('/api/v1', '')) && !url.startsWith('blob:')) {
        pageErrors.push(`answer from ${url}`);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  const ui = (query = ''): string => `${system.api.replace('/api/v1', '/ui/')}${query}`;

  const submit = async (body: Record<string, unknown>): Promise<number> => {
    const res = await fetch(`${system.api}/builds/create-empty-index`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  };

  it('when a build runs, then its page shows the state and the log changing live until complete', async () => {
    const id = await submit({
      from_index: testImages.index,
      binary_image: testImages.binary,
      labels: { 'com.example.note': HOSTILE },
    });
    await page.goto(ui(`?id=${id}`));

    // Sample what a person would see, as often as a person would notice.
    const samples: Sample[] = [];
    const deadline = Date.now() + 240_000;
    for (;;) {
      const sample: Sample = {
        state: await page.locator('#state').getAttribute('data-state'),
        logLength: ((await page.locator('#log').textContent()) ?? '').length,
      };
      samples.push(sample);
      const ended = (await page.locator('#log-status').textContent()) === 'End of the log.';
      if (sample.state === 'complete' && ended) break;
      if (sample.state === 'failed')
        throw new Error(`the build failed: ${await page.locator('#state').innerText()}`);
      if (Date.now() > deadline) throw new Error(`the page still shows ${JSON.stringify(sample)}`);
      await page.waitForTimeout(250);
    }

    // The page saw the request running, with its log already streaming, then complete: no reload.
    const seen = samples.filter((s) => s.state !== null);
    expect(seen[0]?.state).toBe('in_progress');
    expect(samples.some((s) => s.state === 'in_progress' && s.logLength > 0)).toBe(true);
    const lengths = new Set(samples.map((s) => s.logLength));
    expect(lengths.size).toBeGreaterThan(2);
    const api = await waitForFinal(system.api, id);
    await expect(page.locator('#state-reason').textContent()).resolves.toBe(api.state_reason);
    const log = await page.locator('#log').textContent();
    const served = await (await fetch(`${system.api}/builds/${id}/logs`)).text();
    // What the stream sent up to the final state; the builder may log its clean-up after it.
    expect(served.startsWith(log ?? '-')).toBe(true);
    expect(log).toMatch(/buildah manifest push .* -> exit 0/);

    // The state history, newest first, as the API answers it.
    const history = await page.locator('#history tbody tr').allInnerTexts();
    expect(history[0]).toMatch(/^complete\t/);
    expect(history[history.length - 1]).toMatch(/The request was initiated/);
    await expect(page.locator('main').innerText()).resolves.toContain('amd64, arm64');
    await expect(page.locator('main').innerText()).resolves.toContain(`${system.registry}/iib-build:${id}`);

    // The hostile label is shown as the characters it is, and never ran.
    await expect(page.locator('main').innerText()).resolves.toContain(HOSTILE);
    expect(await page.locator('main img').count()).toBe(0);
    // A string is evaluated in the page (the test's own code has no DOM types).
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(pageErrors).toEqual([]);

    await page.screenshot({ path: path.join(ARTIFACTS, 'build-complete.png'), fullPage: true });
  });

  it('when the list is filtered and paged, then it shows the matching builds and links to each', async () => {
    const failed = await submit({
      from_index: `${system.registry}/does-not-exist:v1`,
      binary_image: testImages.binary,
    });
    await waitForFinal(system.api, failed);

    await page.goto(ui('?per_page=1'));
    await page.locator('#builds tbody tr').first().waitFor();
    await expect(page.locator('.pager').innerText()).resolves.toContain('Page 1 of 2 · 2 builds');
    await expect(page.locator('#builds tbody tr').first().innerText()).resolves.toMatch(
      new RegExp(`^${failed}\\t`),
    );
    await page.getByRole('link', { name: 'Older →' }).click();
    await page.waitForURL(/page=2/);
    await expect(page.locator('.pager').innerText()).resolves.toContain('Page 2 of 2');

    // The form's filters become the URL's and the API's.
    await page.goto(ui());
    await page.getByLabel('State').selectOption('complete');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/state=complete/);
    await page.locator('#builds tbody tr a').first().waitFor();
    const rows = await page.locator('#builds tbody tr').allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/complete/);
    expect(rows[0]).toContain('create-empty-index');

    await page.goto(ui());
    await page.locator('#builds tbody tr').nth(1).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'builds-list.png'), fullPage: true });

    // Each row leads to its build.
    await page.getByRole('link', { name: String(failed), exact: true }).click();
    await page.waitForURL(new RegExp(`\\?id=${failed}$`));
    await page.locator('#state[data-state="failed"]').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('when the API documentation is opened, then ReDoc renders the generated document from the gateway alone', async () => {
    await page.goto(system.api.replace('/api/v1', '/'));
    await page.waitForURL(/\/ui\/$/);
    await page.getByRole('link', { name: 'API documentation' }).click();
    await page.waitForURL(/\/api\/v1\/docs$/);
    // ReDoc lists the operations by their summaries, from the served openapi.json.
    await page
      .getByRole('heading', { name: 'List build requests, newest first' })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Add operator bundles to an index image' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png') });
    expect(pageErrors).toEqual([]);
  });
});
