import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient, type VersionSharing } from '@ferry/registry-client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, formatPercent } from '../src/format.js';
import { ARTIFACTS, type Browser, buildUi, hasChromium, launchChromium } from './chromium.helper.js';

const KiB = 1024;
/** Eight tensors of 256 KiB (above the chunker's 64 KiB tensor alignment, so each is its own chunk). */
const TENSORS = 8;
const TENSOR_BYTES = 256 * KiB;
/** What the fine-tune changed: the last two layers. */
const CHANGED = ['layer.6', 'layer.7'];

/** A safetensors file (8-byte little-endian header length, JSON header, data) of F32 tensors. */
async function safetensors(path: string, tensors: { name: string; bytes: Buffer }[]): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = {
      dtype: 'F32',
      shape: [t.bytes.length / 4],
      data_offsets: [offset, offset + t.bytes.length],
    };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  // The data starts 8-byte aligned, as the safetensors writers pad it.
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([length, Buffer.from(json), ...tensors.map((t) => t.bytes)]));
}

/**
 * The version page's shared bytes (issue #20's visibility) in Debian's chromium against a real
 * registry: v1 and a v2 whose last two tensors changed are pushed (chunked) through the real
 * client; v2's page shows what `GET .../versions/2/sharing` answers, in MiB and percent, and the
 * tensors that changed since v1.
 */
describe.runIf(hasChromium)('version page: shared bytes', () => {
  let data: string;
  let server: RegistryServer & { url: string };
  let browser: Browser;
  let page: Page;
  let api: VersionSharing;

  beforeAll(async () => {
    const ui = buildUi();
    await mkdir(ARTIFACTS, { recursive: true });
    data = await mkdtemp(join(tmpdir(), 'ferry-ui-sharing-'));
    server = await startRegistry({
      data,
      port: 0,
      host: '127.0.0.1',
      auth: 'none',
      log: () => undefined,
      webhooks: false,
      ui,
    });
    const client = new RegistryClient({ url: server.url });
    const v1 = Array.from({ length: TENSORS }, (_, i) => ({
      name: `layer.${i}`,
      bytes: randomBytes(TENSOR_BYTES),
    }));
    const v2 = v1.map((t) => (CHANGED.includes(t.name) ? { ...t, bytes: randomBytes(TENSOR_BYTES) } : t));
    await safetensors(join(data, 'v1.safetensors'), v1);
    await safetensors(join(data, 'v2.safetensors'), v2);
    await client.push(join(data, 'v1.safetensors'), { model: 'lab/finetune' });
    await client.push(join(data, 'v2.safetensors'), { model: 'lab/finetune' });
    api = await client.versionSharing('lab/finetune', 2);
    browser = await launchChromium();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (data) await rm(data, { recursive: true, force: true });
  });

  const row = (key: string) => page.locator(`table.sharing tbody tr[data-row="${key}"]`);
  const cells = async (key: string) => (await row(key).locator('td').allTextContents()).map((t) => t.trim());

  it('shows the bytes and percentages the sharing API answers, and which tensors changed', async () => {
    // What the registry answers for this fine-tune: 6 of 8 tensors shared with v1, nothing else.
    expect(api.parent).toBe('models:/lab/finetune/1');
    expect(api.sharedWithParent).toBeGreaterThanOrEqual(6 * TENSOR_BYTES);
    expect(api.sharedWithParent).toBeLessThan(7 * TENSOR_BYTES);
    expect(api.sharedWithAny).toBe(api.sharedWithParent);

    await page.goto(`${server.url}/#/models/lab%2Ffinetune/versions/2`);
    await page.waitForSelector('table.sharing tbody tr');
    const intro = await page.locator('#sharing + p').textContent();
    expect(intro).toBe(
      `${formatBytes(api.size)} in files, stored as ${formatBytes(api.bytes)} of distinct chunks.`,
    );
    expect(await row('parent').locator('th a').textContent()).toBe('v1');
    expect(await row('parent').locator('th a').getAttribute('href')).toBe(
      '#/models/lab%2Ffinetune/versions/1',
    );
    const expected = {
      parent: api.sharedWithParent,
      any: api.sharedWithAny,
      own: api.bytes - api.sharedWithAny,
    };
    for (const [key, bytes] of Object.entries(expected)) {
      expect(await row(key).getAttribute('data-bytes')).toBe(String(bytes));
      expect(await cells(key)).toEqual([formatBytes(bytes), formatPercent(bytes, api.bytes)]);
      // the exact count is on hover
      expect(await row(key).locator('td').first().locator('span').getAttribute('title')).toBe(
        `${bytes.toLocaleString('en')} bytes`,
      );
    }
    // The fine-tune's figures as a person reads them: 1.5 MiB of 2.0 MiB shared, 75.0%.
    expect(await cells('parent')).toEqual(['1.5 MiB', '75.0%']);
    expect(await cells('own')).toEqual(['512.0 KiB', '25.0%']);

    // which tensors changed since v1, by the registry's diff
    await page.waitForSelector('.changed[data-changed]');
    expect(await page.getAttribute('.changed', 'data-changed')).toBe(String(CHANGED.length));
    expect(await page.locator('ul.changed-tensors li code').allTextContents()).toEqual(CHANGED);
    expect(await page.locator('.changed p').textContent()).toContain(
      `2 of this version's ${TENSORS} tensor(s) changed or added since v1:`,
    );

    // A first version has no parent: its row says so and no tensor list is asked for.
    await page.goto(`${server.url}/#/models/lab%2Ffinetune/versions/1`);
    await page.waitForSelector('table.sharing tbody tr');
    expect(await cells('parent')).toEqual(['-', '-']);
    expect(await row('parent').locator('th').textContent()).toBe('its parent (none: the first version)');
    expect(await page.locator('.changed').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'version-sharing-v1.png'), fullPage: true });
  });

  it('keeps the page within a phone’s width, with the shares named for screen readers', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${server.url}/#/models/lab%2Ffinetune/versions/2`);
      await page.waitForSelector('.changed[data-changed]');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(await page.locator('table.sharing caption').textContent()).toBe(
        'Stored bytes of version 2 shared with other versions',
      );
      expect(await page.locator('table.sharing thead th[scope=col]').allTextContents()).toEqual([
        'Shared with',
        'Bytes',
        'Of this version',
      ]);
      expect(await page.locator('table.sharing tbody th[scope=row]').count()).toBe(3);
      // the bars are drawing only: the figure next to each is what is read out
      expect(await page.locator('.share-bar[aria-hidden=true]').count()).toBe(3);
      await page.screenshot({ path: join(ARTIFACTS, 'version-sharing-phone.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
