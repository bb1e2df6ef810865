import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryClient } from '@ferry/registry-client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type Browser, buildUi, hasChromium, launchChromium } from './chromium.helper.js';
import { loadedMetricsServer } from './metrics-server.helper.js';
import { type Seeded, seedRegistry } from './seed.helper.js';

/** Audit entries the seed adds on top of the registry's own, so the log has more than one page. */
const EXTRA_AUDIT = 60;

/**
 * The journeys of issue #25's "UI habits", each through the real UI in Debian's chromium against a
 * real registry process seeded through the real API (see browser.test.ts for the first ones).
 */
describe.runIf(hasChromium)('web UI journeys (#25)', () => {
  let seeded: Seeded;
  let browser: Browser;
  let page: Page;
  let base: string;
  let secondRun: string;
  const client = () => new RegistryClient({ url: seeded.server.url, token: seeded.admin });
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const open = async (hash: string) => {
    await page.goto(`${base}/${hash}`);
    await page.waitForSelector('main h1');
  };
  const login = async (token: string) => {
    await open('#/login');
    await page.fill('input[name=token]', token);
    await page.click('button:has-text("Log in")');
    await page.waitForFunction(() => location.hash === '#/');
    await page.waitForSelector('table.models tbody tr');
  };
  const logout = () => page.evaluate(() => sessionStorage.clear());
  const rows = (selector: string) => page.locator(`${selector} tbody tr`);
  /** The focused element's outline as drawn: style and width. */
  const focusRing = () =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, style: style.outlineStyle, width: style.outlineWidth };
    });

  beforeAll(async () => {
    const ui = buildUi();
    await mkdir(ARTIFACTS, { recursive: true });
    seeded = await seedRegistry(ui);
    base = seeded.server.url;
    const admin = client();
    // A second training of the same model: one param differs, one is the same, metrics differ.
    const run = await admin.createRun({
      name: 'train-mnist-wide',
      params: { lr: '0.001', epochs: '5', optimizer: 'sgd' },
    });
    await admin.logRun(run.id, {
      metrics: [0.8, 0.4, 0.25].flatMap((loss, step) => [
        { key: 'loss', value: loss, step: step + 1 },
        { key: 'accuracy', value: 0.85 + step * 0.05, step: step + 1 },
      ]),
      status: 'finished',
    });
    secondRun = run.id;
    for (let i = 0; i < EXTRA_AUDIT; i++) await admin.setModelTag('vision/mnist', 'round', String(i));
    browser = await launchChromium();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await seeded?.close();
  });

  it('has a favicon, and draws no focus frame around the page or its heading after navigation', async () => {
    await open('#/');
    const icon = await page.getAttribute('link[rel=icon]', 'href');
    expect(icon).toBe('/favicon.svg');
    const response = await fetch(`${base}${icon}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(await response.text()).toMatch(/^<svg /);

    // by mouse: a click on a link, then the new page's heading holds the focus, drawn without a ring
    await page.waitForSelector('table.models tbody tr');
    await page.click('table.models a:has-text("vision/mnist-small")');
    await page.waitForSelector('main h1:has-text("vision/mnist-small")');
    await expect.poll(() => focusRing().then((f) => f.tag)).toBe('H1');
    expect(await focusRing()).toMatchObject({ style: 'none' });
    // by keyboard: Enter on a focused link (where :focus-visible applies)
    await page.focus('header a:has-text("Deployments")');
    await page.keyboard.press('Enter');
    await page.waitForSelector('main h1:has-text("Deployments")');
    await expect.poll(() => focusRing().then((f) => f.tag)).toBe('H1');
    expect(await focusRing()).toMatchObject({ style: 'none' });
    // while a page loads, main holds the focus: no ring around the whole page either
    expect(
      await page.evaluate(() => {
        const main = document.getElementById('main')!;
        main.focus();
        return getComputedStyle(main).outlineStyle;
      }),
    ).toBe('none');
    // controls keep their ring for keyboard users
    await page.keyboard.press('Tab');
    expect((await focusRing()).style).not.toBe('none');
  });

  it('shows each model’s scan verdict in the models list', async () => {
    await open('#/');
    const cell = (model: string) =>
      page
        .locator('table.models tbody tr', { has: page.locator(`a:text-is("${model}")`) })
        .locator('td[data-scan]');
    await expect.poll(() => cell('lab/suspicious').getAttribute('data-scan')).toBe('unsafe');
    await expect.poll(() => cell('vision/mnist').getAttribute('data-scan')).toBe('safe');
    expect(await cell('lab/suspicious').locator('.badge.scan-unsafe').textContent()).toBe('unsafe');
    // what the registry says about each latest version
    for (const model of ['lab/suspicious', 'vision/mnist', 'vision/mnist-small']) {
      const m = await client().getModel(model);
      const v = await client().getVersion(model, m.latestVersion!);
      await expect.poll(() => cell(model).getAttribute('data-scan')).toBe(v.scan);
    }
    await shot('models-verdicts');
  });

  it('names lineage nodes: the run and the dataset by name, not by id', async () => {
    await open(`#/lineage?node=${encodeURIComponent('models:/vision/mnist-small/1')}`);
    await page.waitForSelector('.graph-wrap svg a.node');
    const labels = await page.locator('.graph-wrap svg a.node text').allTextContents();
    expect(labels.sort()).toEqual([
      'dataset mnist',
      'run train-mnist',
      'vision/mnist v1',
      'vision/mnist-small v1',
    ]);
    expect(await page.textContent('ul.edges')).not.toMatch(/run [0-9a-f]{8}\b/);
    await shot('lineage-names');
  });

  it('shows a version’s inputs and outputs from its stored inspect data', async () => {
    await open('#/models/vision%2Fmnist/versions/1');
    await page.waitForSelector('table.signature tbody tr');
    const stored = (await client().getVersion('vision/mnist', 1)).inspect as {
      files: Record<
        string,
        { inputs: { name: string; dtype: string }[]; outputs: { name: string; dtype: string }[] }
      >;
    };
    const file = Object.values(stored.files)[0]!;
    const shown = await page
      .locator('table.signature tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(shown.map((r) => [r[0], r[1], r[2]])).toEqual([
      ...file.inputs.map((t) => ['input', t.name, t.dtype]),
      ...file.outputs.map((t) => ['output', t.name, t.dtype]),
    ]);
    expect(file.inputs.length).toBeGreaterThan(0);
    expect(shown[0]![3]).toMatch(/^\[.*\]$/);
  });

  it('lists runs and compares two side by side: params with differences marked, metrics, charts', async () => {
    await open('#/');
    await page.click('header a:has-text("Runs")');
    await page.waitForSelector('table.runs tbody tr');
    expect(await rows('table.runs').count()).toBe(2);
    expect(await page.locator('table.runs tbody tr:first-child a').textContent()).toBe('train-mnist-wide');
    const compare = page.locator('button:has-text("Compare")');
    expect(await compare.isDisabled()).toBe(true);
    await page.check(`tr[data-run="${seeded.runId}"] input[type=checkbox]`);
    await page.check(`tr[data-run="${secondRun}"] input[type=checkbox]`);
    await compare.click();
    await page.waitForSelector('table.compare-params tbody tr');
    expect(await page.textContent('main h1')).toBe('Compare 2 runs');
    const param = (key: string) => page.locator(`table.compare-params tr[data-param="${key}"]`);
    expect(await param('lr').getAttribute('class')).toBe('differs');
    expect(await param('optimizer').getAttribute('class')).toBe('differs');
    expect(await param('epochs').getAttribute('class')).toBeNull();
    expect(await param('lr').locator('td').allTextContents()).toEqual(['0.01', '0.001']);
    // the last value logged of each run, then its range
    const loss = await page.locator('table.compare-metrics tr[data-metric="loss"] td').allTextContents();
    expect(loss).toEqual(['0.120.12 – 0.9', '0.250.25 – 0.8']);
    expect(await page.locator('.charts figure canvas').count()).toBe(2);
    await shot('runs-compare');
  });

  it('reads the audit log newest first, a page at a time, in words', async () => {
    await login(seeded.admin);
    await open('#/audit');
    await page.waitForSelector('table.audit tbody tr');
    const all = await client().audit({ limit: 1000 });
    const newest = Math.max(...all.map((e) => e.id));
    const ids = async () =>
      (
        await page
          .locator('table.audit tbody tr')
          .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))
      ).map(Number);
    const first = await ids();
    expect(first).toHaveLength(50);
    expect(first[0]).toBe(newest);
    expect(first).toEqual([...first].sort((a, b) => b - a));
    // readable: the action in words, the change as field: before → after, no raw JSON objects
    const top = page.locator('table.audit tbody tr').first();
    expect(await top.textContent()).toContain('tagged a model');
    expect(await top.locator('ul.change').textContent()).toMatch(/round/);
    expect(await page.textContent('table.audit tbody')).not.toMatch(/\{"/);
    await page.locator('button:has-text("Older")').first().click();
    await expect.poll(async () => (await ids())[0]).toBe(first[first.length - 1]! - 1);
    const second = await ids();
    expect(second.length).toBeGreaterThan(0);
    // pushes, runs and tokens change nested values: still words, never JSON
    expect(await page.textContent('table.audit tbody')).toContain('pushed a version');
    expect(await page.textContent('table.audit tbody')).not.toMatch(/\{"|"\}|\[\{/);
    expect(Math.max(...second)).toBeLessThan(Math.min(...first));
    await shot('audit-page-2');
    await page.locator('button:has-text("Newer")').first().click();
    await expect.poll(async () => (await ids())[0]).toBe(newest);
    expect(await page.locator('button:has-text("Newer")').first().isDisabled()).toBe(true);
  });

  it('shows a "not found" page for unknown routes', async () => {
    for (const hash of ['#/nope', '#/models/vision%2Fmnist/versions/two', '#/runs/compare/extra']) {
      await open(hash);
      expect(await page.textContent('main h1')).toBe('Not found');
      expect(await page.textContent('main')).toContain('does not exist');
    }
    await shot('not-found');
    // the header's API link opens the registry's browsable API page
    await page.click('header a:has-text("API")');
    await page.waitForSelector('details.op');
    expect(new URL(page.url()).pathname).toBe('/docs');
    expect(await page.title()).toBe('ferry registry — API');
    expect(await page.locator('details.op').count()).toBeGreaterThan(30);
    await page.click('details.op:has(code:text-is("/api/v1/runs")) summary');
    expect(await page.textContent('details.op[open]')).toContain('offset');
    await shot('api-docs');
  });

  it('creates a deployment from the UI', async () => {
    await open('#/deployments');
    await page.waitForSelector('form.new-deployment');
    await page.fill('input[name=deployment-name]', 'bad name');
    expect(await page.textContent('form.new-deployment')).toContain('letters, digits');
    expect(await page.locator('form.new-deployment button[type=submit]').isDisabled()).toBe(true);
    await page.fill('input[name=deployment-name]', 'mnist-prod');
    await page.selectOption('select[name=deployment-model]', 'vision/mnist');
    await page.fill('input[name=deployment-alias]', 'prod');
    await page.click('form.new-deployment button[type=submit]');
    await page.waitForSelector('.notice:has-text("Deployment mnist-prod created")');
    await page.waitForSelector('article[data-deployment="mnist-prod"]');
    expect(await client().getDeployment('mnist-prod')).toMatchObject({
      model: 'vision/mnist',
      alias: 'prod',
    });
    // the registry's refusal is shown as it answers: a reader may not create one
    await login(seeded.reader);
    await open('#/deployments');
    await page.click('details.create summary:has-text("New deployment")'); // folded once some exist
    await page.fill('input[name=deployment-name]', 'not-mine');
    await page.selectOption('select[name=deployment-model]', 'vision/mnist');
    await page.click('form.new-deployment button[type=submit]');
    await page.waitForSelector('form.new-deployment .error');
    expect(await page.textContent('form.new-deployment .error')).toContain('403');
    await expect(client().getDeployment('not-mine')).rejects.toThrow();
    await shot('deployment-created');
    await logout();
  });

  it('lists every server of a deployment, a stopped one as offline', async () => {
    // two servers report the deployment created above; the second stops cleanly (serve reports
    // offline on SIGTERM): the deployment keeps serving from the first, and both rows show
    const admin = client();
    const [live, stopped] = ['http://127.0.0.1:18001', 'http://127.0.0.1:18002'];
    const version = (await admin.getModel('vision/mnist')).latestVersion;
    await admin.reportDeployment('mnist-prod', { status: 'serving', liveVersion: version, endpoint: live });
    await admin.reportDeployment('mnist-prod', {
      status: 'serving',
      liveVersion: version,
      endpoint: stopped,
    });
    await admin.reportDeployment('mnist-prod', { status: 'offline', liveVersion: null, endpoint: stopped });
    await login(seeded.admin);
    await open('#/deployments');
    const article = page.locator('article[data-deployment="mnist-prod"]');
    await expect.poll(() => article.getAttribute('data-status')).toBe('serving');
    await article.locator('table.endpoints').waitFor();
    expect(await article.locator(`tr[data-endpoint="${live}"]`).getAttribute('data-status')).toBe('serving');
    expect(await article.locator(`tr[data-endpoint="${stopped}"]`).getAttribute('data-status')).toBe(
      'offline',
    );
    expect(await article.locator(`tr[data-endpoint="${stopped}"] .badge`).textContent()).toBe('offline');
    await shot('deployment-endpoints');
    await logout();
  });

  it('creates, lists and revokes tokens from the UI', async () => {
    await login(seeded.admin);
    await page.click('header a:has-text("Tokens")');
    await page.waitForSelector('table.tokens tbody tr');
    const before = await rows('table.tokens').count();
    await page.fill('input[name=token-user]', 'ci-bot');
    await page.fill('input[name=token-scopes]', 'read:vision/*');
    await page.fill('input[name=token-description]', 'nightly pulls');
    await page.click('form.new-token button[type=submit]');
    await page.waitForSelector('.new-token-value code');
    const token = (await page.textContent('.new-token-value code'))!;
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    const whoami = (t: string) =>
      fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${t}` } });
    expect(await (await whoami(token)).json()).toMatchObject({ user: 'ci-bot', scopes: ['read:vision/*'] });
    await expect.poll(() => rows('table.tokens').count()).toBe(before + 1);
    const row = page.locator('table.tokens tbody tr', { hasText: 'nightly pulls' });
    expect(await row.textContent()).toContain('read:vision/*');
    expect(await page.textContent('table.tokens')).not.toContain(token); // never listed again
    await row.locator('button:has-text("Revoke")').click();
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.textContent('dialog.confirm')).toContain('ci-bot');
    await page.click('dialog.confirm button.primary');
    await page.waitForSelector('.notice:has-text("Revoked the token of ci-bot")');
    await expect.poll(() => rows('table.tokens').count()).toBe(before);
    expect((await whoami(token)).status).toBe(401);
    await shot('tokens');
    await logout();
  });

  it('draws charts with one unit per axis and sane ticks', async () => {
    // a run's metric: whole steps on x, evenly rounded values on y
    await open(`#/runs/${seeded.runId}`);
    await page.waitForSelector('.charts .chart[data-x-ticks]');
    const loss = page.locator('.charts .chart[aria-label="loss chart"]');
    const xTicks = (await loss.getAttribute('data-x-ticks'))!.split('|');
    for (const t of xTicks) expect(t).toMatch(/^\d+$/);
    expect(new Set(xTicks).size).toBe(xTicks.length);
    checkValueTicks((await loss.getAttribute('data-y-ticks'))!.split('|'));
    expect(await loss.getAttribute('data-y-labels')).toBe('loss');

    // a deployment's live chart: requests/s on one axis, milliseconds on the other, clock times on x
    const { url, close } = await loadedMetricsServer();
    try {
      await open(`#/deployments?watch=${encodeURIComponent(url)}`);
      const chart = page.locator('.live .chart');
      await chart.waitFor();
      await expect.poll(() => chart.getAttribute('data-y2-ticks'), { timeout: 15_000 }).toBeTruthy();
      expect(await chart.getAttribute('data-y-labels')).toBe('requests/s|p99 latency (ms)');
      const clock = (await chart.getAttribute('data-x-ticks'))!.split('|');
      for (const t of clock) expect(t).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(new Set(clock).size).toBe(clock.length); // no label twice
      checkValueTicks((await chart.getAttribute('data-y-ticks'))!.split('|'));
      checkValueTicks((await chart.getAttribute('data-y2-ticks'))!.split('|'));
      await shot('deployment-chart');
    } finally {
      close();
    }
  });
});

/** Tick labels: numbers from 0 up, one number of decimals for all, evenly spaced, no float noise. */
function checkValueTicks(ticks: string[]): void {
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  for (const t of ticks) expect(t).toMatch(/^-?\d+(\.\d{1,6})?$/);
  expect(new Set(ticks.map((t) => t.split('.')[1]?.length ?? 0)).size).toBe(1);
  const values = ticks.map(Number);
  expect(values[0]).toBe(0);
  const step = values[1]! - values[0]!;
  for (const [i, v] of values.entries()) expect(v).toBeCloseTo(values[0]! + i * step, 6);
}
