import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '@ferry/registry-client';
import { startServer } from '@ferry/serve';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  type Browser,
  buildUi,
  CHROMIUM,
  hasChromium,
  launchChromium,
} from './chromium.helper.js';
import { inferenceLoad, type LoadResult } from './inference-load.helper.js';
import { loadedMetricsServer } from './metrics-server.helper.js';
import { DEPLOYED, type Seeded, seedDeployment, seedRegistry } from './seed.helper.js';

if (!hasChromium && process.env.CI !== 'true')
  console.warn(`ui browser tests skipped: ${CHROMIUM} is missing (run: sudo scripts/install-system-deps.sh)`);

describe('browser without chromium in CI', () => {
  it.runIf(!hasChromium && process.env.CI === 'true')('fails: CI must have Debian chromium', () => {
    throw new Error(`${CHROMIUM} is missing: run sudo scripts/install-system-deps.sh`);
  });
});

/**
 * How long a switch may take to show: the server polls the alias every 250 ms, downloads, loads,
 * warms and swaps the version, reports it, and the page re-reads every 2 s (two scrapes for rates).
 */
const SWITCH = { timeout: 20_000, interval: 200 };

/** The main journeys through the real UI, served by a real registry with real pushed models. */
describe.runIf(hasChromium)('web UI in chromium', () => {
  let seeded: Seeded;
  let browser: Browser;
  let page: Page;
  let base: string;
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
  const logout = async () => {
    await page.evaluate(() => sessionStorage.clear());
  };
  const rows = (selector: string) => page.locator(`${selector} tbody tr`);

  beforeAll(async () => {
    const ui = buildUi();
    await mkdir(ARTIFACTS, { recursive: true });
    seeded = await seedRegistry(ui);
    base = seeded.server.url;
    browser = await launchChromium();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await seeded?.close();
  });

  it('finds a model: search and filters; private models are invisible', async () => {
    await open('#/');
    await page.waitForSelector('table.models tbody tr');
    const names = await page.locator('table.models tbody tr td:first-child a').allTextContents();
    expect(names.sort()).toEqual(['lab/suspicious', 'vision/mnist', 'vision/mnist-small']);
    await page.fill('input[name=search]', 'mnist');
    await expect.poll(() => rows('table.models').count()).toBe(2);
    await page.fill('input[placeholder="key or key=value"]', 'task=classification');
    await expect.poll(() => rows('table.models').count()).toBe(1);
    await shot('models');
    await page.click('table.models a:has-text("vision/mnist")');
    await page.waitForFunction(() => location.hash === '#/models/vision%2Fmnist');
  });

  it('renders the model card safely, with versions and no write actions for anonymous callers', async () => {
    await open('#/models/vision%2Fmnist');
    await page.waitForSelector('.card h2');
    expect(await page.textContent('.card h2')).toBe('MNIST classifier');
    expect(await page.locator('.card table td').allTextContents()).toEqual(['accuracy', '0.97']);
    // The card's <script>, <img onerror> and javascript: link stay text.
    expect(await page.locator('.card script, .card img').count()).toBe(0);
    expect(await page.textContent('.card')).toContain('<script>window.xssFired = true</script>');
    expect(await page.locator('.card a', { hasText: 'click me' }).count()).toBe(0);
    expect(await page.getAttribute('.card a:has-text("the paper")', 'href')).toBe(
      'https://example.org/paper',
    );
    expect(await page.evaluate(() => (window as { xssFired?: boolean }).xssFired)).toBeUndefined();
    await page.waitForSelector('table.versions tbody tr');
    expect(await rows('table.versions').count()).toBe(2);
    expect(await page.locator('table.versions .badge.scan-safe').count()).toBe(2);
    expect(await page.textContent('table.versions tbody tr:first-child')).toContain('onnx');
    expect(await page.locator('button:has-text("Promote"), button:has-text("Roll back")').count()).toBe(0);
    await shot('model');
  });

  it('opens a version: files, tensor table, and scan findings explained', async () => {
    await open('#/models/vision%2Fmnist/versions/2');
    await page.waitForSelector('table.tensors tbody tr');
    expect(await rows('table.tensors').count()).toBe(6);
    expect(await page.textContent('table.tensors')).toContain('fc3.weight');
    expect(await page.textContent('table.files')).toContain('mlp.onnx');
    expect(await page.textContent('dl.facts')).toContain('stage=candidate');
    await page.fill('label:has-text("Filter tensors") input', 'bias');
    await expect.poll(() => rows('table.tensors').count()).toBe(3);
    await shot('version');
    await open('#/models/lab%2Fsuspicious/versions/1');
    await page.waitForSelector('.badge.scan-unsafe');
    expect(await page.textContent('main')).toContain('runs code when loaded');
    await page.waitForSelector('.findings li.sev-critical');
    expect(await page.textContent('.findings')).toContain('builtins.exec');
    expect(await page.textContent('main')).toContain('Not listed: the scan marked this version unsafe');
    await shot('unsafe-version');
  });

  it('diffs two versions tensor by tensor', async () => {
    await open('#/models/vision%2Fmnist/versions/1');
    await page.selectOption('select[name=against]', '2');
    await page.click('button:has-text("Diff")');
    await page.waitForSelector('table.diff-table tbody tr');
    expect(await page.locator('table.diff-table tr.st-shape-mismatch').count()).toBe(4);
    expect(await page.locator('table.diff-table tr.st-added').allTextContents()).toEqual([
      'fc3.weightonly in v2-✓-',
      'fc3.biasonly in v2-✓-',
    ]);
    expect(await page.textContent('.diff p')).toContain('4 of 4 shared tensor(s) differ');
    await page.locator('.diff').screenshot({ path: join(ARTIFACTS, 'diff.png') });

    // The derived model's float16 conversion: same names and shapes, values rounded.
    await open('#/models/vision%2Fmnist-small/versions/2?against=1');
    await page.waitForSelector('table.diff-table tbody tr');
    expect(await page.locator('table.diff-table tr.st-dtype-mismatch').count()).toBe(4);
    const maxDiffs = await page
      .locator('table.diff-table tr.st-dtype-mismatch td:last-child')
      .allTextContents();
    for (const text of maxDiffs) expect(Number(text)).toBeGreaterThanOrEqual(0);
    expect(maxDiffs.some((text) => Number(text) > 0)).toBe(true);
    expect(await page.textContent('table.diff-table')).toContain('F16 [8, 4]');
    await page.locator('.diff').screenshot({ path: join(ARTIFACTS, 'diff-fp16.png') });
  });

  it('follows lineage: derived version -> version -> run -> dataset, then opens the run', async () => {
    await open('#/models/vision%2Fmnist-small/versions/1');
    await page.click('a:has-text("lineage graph")');
    await page.waitForSelector('.graph-wrap svg a.node');
    const kinds = await page
      .locator('.graph-wrap svg a.node')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('class')).sort());
    expect(kinds).toEqual([
      'node node-dataset',
      'node node-run',
      'node node-version',
      'node node-version root',
    ]);
    expect(await page.locator('.graph-wrap .edge').count()).toBe(3);
    await shot('lineage');
    await page.click('.graph-wrap a.node-run');
    await page.waitForSelector('.charts canvas');
    expect(await page.locator('.charts figure').count()).toBe(2);
    expect(await page.textContent('table.kv')).toContain('lr');
    expect(await page.textContent('main h1')).toContain('train-mnist');
    await shot('run');
  });

  it('shows a run logged through the MLflow API: metric charts and the version registered from it', async () => {
    // As an MLflow client does it: Basic auth with the ferry token as password (issue #19).
    const basic = `Basic ${Buffer.from(`mlflow:${seeded.admin}`).toString('base64')}`;
    const mlflow = async (path: string, body: unknown) => {
      const response = await fetch(`${seeded.server.url}/api/2.0/mlflow/${path}`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      return response.json();
    };
    const { experiment_id } = await mlflow('experiments/create', { name: 'churn-tuning' });
    const { run } = await mlflow('runs/create', { experiment_id, run_name: 'mlflow-churn' });
    const runId = run.info.run_id as string;
    await mlflow('runs/log-batch', {
      run_id: runId,
      params: [{ key: 'max_depth', value: '8' }],
      metrics: [0.61, 0.42, 0.35, 0.31].flatMap((loss, step) => [
        { key: 'loss', value: loss, step, timestamp: 1_700_000_000_000 + step },
        { key: 'auc', value: 0.7 + step / 20, step, timestamp: 1_700_000_000_000 + step },
      ]),
    });
    await mlflow('runs/update', { run_id: runId, status: 'FINISHED' });
    await mlflow('registered-models/create', { name: 'tabular/churn' });
    await mlflow('model-versions/create', {
      name: 'tabular/churn',
      source: 's3://models/churn/1',
      run_id: runId,
    });

    await open(`#/runs/${runId}`);
    await page.waitForSelector('.charts canvas');
    expect(await page.textContent('main h1')).toContain('mlflow-churn');
    expect(await page.textContent('main h1')).toContain('finished');
    expect(await page.locator('.charts figcaption').allTextContents()).toEqual([
      'auc: 4 point(s), last 0.85',
      'loss: 4 point(s), last 0.31',
    ]);
    expect(await page.textContent('table.kv')).toContain('max_depth');
    await page.waitForSelector('ul.run-versions a');
    expect(await page.locator('ul.run-versions a').allTextContents()).toEqual(['tabular/churn/1']);
    await shot('run-mlflow');
    await page.click('ul.run-versions a');
    await page.waitForFunction(() => location.hash === '#/models/tabular%2Fchurn/versions/1');
    await page.waitForSelector('main h1');
  });

  it('promotes and rolls back an alias with confirmation; permissions decide the buttons; 403 is shown', async () => {
    await login(seeded.reader);
    await open('#/models/vision%2Fmnist');
    await page.waitForSelector('table.aliases');
    expect(await page.locator('button:has-text("Promote")').count()).toBe(0);
    expect(await page.textContent('main')).toContain('has no write scope on vision/mnist');

    await login(seeded.writer);
    await open('#/models/vision%2Fmnist');
    await page.waitForSelector('form.promote');
    await page.fill('form.promote input', 'prod');
    await page.selectOption('form.promote select', '2');
    await page.click('form.promote button:has-text("Promote")');
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.textContent('dialog.confirm')).toContain(
      'will point to version 2 instead of version 1',
    );
    await shot('promote-dialog');
    await page.keyboard.press('Escape'); // cancel: nothing moves
    await page.waitForSelector('dialog.confirm', { state: 'detached' });
    expect((await client().getAlias('vision/mnist', 'prod')).version).toBe(1);

    await page.click('form.promote button:has-text("Promote")');
    await page.click('dialog.confirm button.primary');
    await page.waitForSelector('.notice');
    expect(await page.textContent('.notice')).toBe('prod now points to version 2 (was 1).');
    expect((await client().getAlias('vision/mnist', 'prod')).version).toBe(2);

    await page.click('button:has-text("Roll back prod")');
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.textContent('dialog.confirm')).toContain(
      'will point to version 1 instead of version 2',
    );
    await page.click('dialog.confirm button.primary');
    await page.waitForSelector('.notice:has-text("prod now points to version 1")');
    expect((await client().getAlias('vision/mnist', 'prod')).version).toBe(1);

    // A protected alias needs admin: its button is disabled; typed into the form, the API's 403
    // is shown and nothing moves.
    expect(await page.locator('button:has-text("Roll back stable")').isDisabled()).toBe(true);
    expect(await page.locator('button:has-text("Roll back prod")').isDisabled()).toBe(false);
    await page.fill('form.promote input', 'stable');
    await page.selectOption('form.promote select', '2');
    await page.click('form.promote button:has-text("Promote")');
    await page.click('dialog.confirm button.primary');
    await page.waitForSelector('.error');
    expect(await page.textContent('.error')).toContain('403 FERRY_REGISTRY_FORBIDDEN');
    await shot('forbidden');
    expect((await client().getAlias('vision/mnist', 'stable')).version).toBe(1);
    await logout();
  });

  it('logs in with a token: private models appear for the admin and vanish on logout; the audit log', async () => {
    await open('#/models/team%2Fsecret');
    await page.waitForSelector('.error');
    expect(await page.textContent('.error')).toContain('404');
    await login(seeded.admin);
    const names = await page.locator('table.models tbody tr td:first-child a').allTextContents();
    expect(names).toContain('team/secret');
    expect(await page.textContent('table.models')).toContain('private');
    await page.click('header a:has-text("Audit log")');
    await page.waitForSelector('table.audit tbody tr');
    const audit = await page.textContent('table.audit');
    expect(audit).toContain('alias.set');
    expect(audit).toContain('walt');
    await shot('audit');
    await page.click('header a.who');
    await page.click('button:has-text("Log out")');
    await open('#/');
    await page.waitForSelector('table.models tbody tr');
    expect(await page.locator('table.models tbody tr td:first-child a').allTextContents()).not.toContain(
      'team/secret',
    );
    expect(await page.locator('header a:has-text("Audit log")').count()).toBe(0);
  });

  it('deployments: explains none are registered and watches a server /metrics live', async () => {
    // A real @ferry/serve metrics registry under load, exposed on loopback with CORS.
    const { url, close } = await loadedMetricsServer();
    try {
      await open(`#/deployments?watch=${encodeURIComponent(url)}`);
      await page.waitForSelector('text=No deployments are registered');
      await expect.poll(() => page.textContent('[data-metric=batch]'), { timeout: 15_000 }).toBe('4.00');
      const rate = Number(await page.textContent('[data-metric=rate]'));
      expect(rate).toBeGreaterThan(0);
      expect(await page.textContent('[data-metric=p99]')).toMatch(/^\d+\.\d ms$/);
      await page.waitForSelector('.live canvas');
      await shot('deployments');
    } finally {
      close();
    }
  });

  it('works from the keyboard and on a narrow screen', async () => {
    await open('#/');
    await page.waitForSelector('table.models tbody tr');
    await page.focus('input[name=search]');
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent === 'vision/mnist');
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/models/vision%2Fmnist');
    await page.setViewportSize({ width: 390, height: 844 });
    await open('#/models/vision%2Fmnist');
    await page.waitForSelector('table.versions tbody tr');
    // No sideways scrolling of the page: wide tables scroll inside their own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('narrow-model');
    await open('#/models/vision%2Fmnist/versions/1?against=2');
    await page.waitForSelector('table.diff-table tbody tr');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('narrow-diff');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
  it('sees the deployment switch: a real server follows prod under load; promote to v2, roll back to v1', async () => {
    // The registry's deployment tabular-classifier follows models:/tabular/classifier@prod, served by
    // a real @ferry/serve server (onnxruntime) that downloads each version from the registry.
    await seedDeployment(client());
    const cache = await mkdtemp(join(tmpdir(), 'ferry-ui-serve-'));
    const serve = await startServer({
      registry: { client: client(), cacheDir: cache, events: false },
      metricsCorsOrigins: [base],
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: null,
      pollIntervalMs: 250,
      logLevel: 'warn',
    });
    const load = inferenceLoad(`http://127.0.0.1:${serve.httpPort}/v2/models/${DEPLOYED.deployment}/infer`);
    let answers: LoadResult;
    const deployment = () => page.locator(`article[data-deployment="${DEPLOYED.deployment}"]`);
    const modelRow = () => page.locator(`table.deployments tr[data-deployment="${DEPLOYED.deployment}"]`);
    /** The deployments page: the live version the server reported, and which versions answered. */
    const seeLive = async (version: string, name: string) => {
      await open('#/deployments');
      await expect.poll(() => deployment().getAttribute('data-live-version'), SWITCH).toBe(version);
      expect(await deployment().getAttribute('data-status')).toBe('serving');
      expect(await deployment().locator('.live-version').textContent()).toBe(`live version ${version}`);
      await expect
        .poll(() => deployment().locator('[data-metric=versions]').textContent(), SWITCH)
        .toBe(`v${version} 100%`);
      expect(Number(await deployment().locator('[data-metric=rate]').textContent())).toBeGreaterThan(0);
      expect(await deployment().locator('[data-metric=p99]').textContent()).toMatch(/^\d+\.\d ms$/);
      await deployment().locator('canvas').waitFor();
      await shot(name);
    };
    try {
      await login(seeded.admin);
      await seeLive('1', 'deployment-v1');
      expect(await deployment().textContent()).toContain(`models:/${DEPLOYED.model}@prod`);
      expect(await deployment().locator('code').textContent()).toBe(`http://127.0.0.1:${serve.httpPort}`);

      // Promote: the model page's form, the confirmation, then the server swaps to version 2.
      await page.click(`article[data-deployment="${DEPLOYED.deployment}"] a:has-text("models:/")`);
      await page.waitForSelector('form.promote');
      await expect.poll(() => modelRow().getAttribute('data-live-version'), SWITCH).toBe('1');
      await page.fill('form.promote input', 'prod');
      await page.selectOption('form.promote select', '2');
      await page.click('form.promote button:has-text("Promote")');
      await page.waitForSelector('dialog.confirm[open]');
      expect(await page.textContent('dialog.confirm')).toContain(
        'will point to version 2 instead of version 1',
      );
      await page.click('dialog.confirm button.primary');
      await page.waitForSelector('.notice:has-text("prod now points to version 2")');
      await expect.poll(() => modelRow().getAttribute('data-live-version'), SWITCH).toBe('2');
      expect(await modelRow().textContent()).toContain('serving');
      await shot('model-deployed-v2');
      await seeLive('2', 'deployment-v2');

      // Roll back: moving the alias back switches the deployment back.
      await open(`#/models/${encodeURIComponent(DEPLOYED.model)}`);
      await page.click('button:has-text("Roll back prod")');
      await page.waitForSelector('dialog.confirm[open]');
      expect(await page.textContent('dialog.confirm')).toContain(
        'will point to version 1 instead of version 2',
      );
      await page.click('dialog.confirm button.primary');
      await page.waitForSelector('.notice:has-text("prod now points to version 1")');
      await expect.poll(() => modelRow().getAttribute('data-live-version'), SWITCH).toBe('1');
      await seeLive('1', 'deployment-rolled-back');
      expect((await client().getDeployment(DEPLOYED.deployment)).liveVersion).toBe(1);
    } finally {
      answers = await load.stop();
      await serve.close();
      await rm(cache, { recursive: true, force: true });
      await logout();
    }
    // Under load through both moves: no request failed, each answer came whole from one version.
    expect(answers.failures).toEqual([]);
    expect(answers.byVersion['1']).toBeGreaterThan(0);
    expect(answers.byVersion['2']).toBeGreaterThan(0);
  });
});
