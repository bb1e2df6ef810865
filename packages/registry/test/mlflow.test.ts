import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/** The MLflow Model Registry REST subset, called the way MLflow's REST client does. */
describe.each(BACKENDS)('MLflow-compatible API on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let call: (
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: MLflow answers of many shapes, checked field by field
  ) => Promise<{ status: number; json: Record<string, any> }>;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend);
    call = async (method, path, body) => {
      const response = await fetch(`${server.url}/api/2.0/mlflow/${path}`, {
        method,
        headers: {
          authorization: `Bearer ${server.adminToken}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: await response.json() };
    };
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('registered models: create, get, update, tags, rename, search, delete with MLflow shapes', async ({
    skip,
  }) => {
    if (!backend) skip();
    const created = await call('POST', 'registered-models/create', {
      name: 'fraud',
      description: 'v1',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(created.status).toBe(200);
    expect(created.json.registered_model).toMatchObject({
      name: 'fraud',
      description: 'v1',
      tags: [{ key: 'team', value: 'risk' }],
      aliases: [],
      user_id: 'admin',
    });
    expect(typeof created.json.registered_model.creation_timestamp).toBe('number');
    const again = await call('POST', 'registered-models/create', { name: 'fraud' });
    expect(again).toEqual({
      status: 400,
      json: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'model fraud: already exists' },
    });
    expect(await call('GET', 'registered-models/get?name=nope')).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'model nope does not exist' },
    });
    expect(
      (await call('PATCH', 'registered-models/update', { name: 'fraud', description: 'v2' })).json
        .registered_model.description,
    ).toBe('v2');
    expect(
      (await call('POST', 'registered-models/set-tag', { name: 'fraud', key: 'stage', value: 'beta' })).json,
    ).toEqual({});
    expect(
      (await call('DELETE', 'registered-models/delete-tag', { name: 'fraud', key: 'team' })).status,
    ).toBe(200);
    expect((await call('GET', 'registered-models/get?name=fraud')).json.registered_model.tags).toEqual([
      { key: 'stage', value: 'beta' },
    ]);
    await call('POST', 'registered-models/create', {
      name: 'Fraud-Old',
      tags: [{ key: 'stage', value: 'beta' }],
    });
    await call('POST', 'registered-models/create', { name: 'churn' });

    const names = async (filter: string, extra = '') =>
      (
        await call('GET', `registered-models/search?filter=${encodeURIComponent(filter)}${extra}`)
      ).json.registered_models?.map((m: { name: string }) => m.name);
    expect(await names("name = 'churn'")).toEqual(['churn']);
    expect(await names("name LIKE 'fr%'")).toEqual(['fraud']);
    expect(await names("name ILIKE 'fr%'")).toEqual(['Fraud-Old', 'fraud']);
    expect(await names("tags.stage = 'beta' AND name != 'fraud'")).toEqual(['Fraud-Old']);
    const paged = await call('GET', 'registered-models/search?max_results=2');
    expect(paged.json.registered_models).toHaveLength(2);
    const rest = await call(
      'GET',
      `registered-models/search?max_results=2&page_token=${paged.json.next_page_token}`,
    );
    expect(rest.json.registered_models.map((m: { name: string }) => m.name)).toEqual(['fraud']);
    expect(rest.json.next_page_token).toBeUndefined();
    const bad = await call(
      'GET',
      `registered-models/search?filter=${encodeURIComponent("name = 'a' OR name = 'b'")}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');

    expect(
      (await call('POST', 'registered-models/rename', { name: 'churn', new_name: 'churn-v2' })).json
        .registered_model.name,
    ).toBe('churn-v2');
    expect((await call('DELETE', 'registered-models/delete', { name: 'churn-v2' })).json).toEqual({});
    expect((await call('GET', 'registered-models/get?name=churn-v2')).status).toBe(404);
  });

  it('model versions: create, get, update, tags, aliases, latest, search, download URI, delete', async ({
    skip,
  }) => {
    if (!backend) skip();
    const runId = 'a'.repeat(32);
    const v1 = await call('POST', 'model-versions/create', {
      name: 'fraud',
      source: 's3://bucket/fraud/1',
      run_id: runId,
      tags: [{ key: 'algo', value: 'xgb' }],
    });
    expect(v1.json.model_version).toMatchObject({
      name: 'fraud',
      version: '1',
      source: 's3://bucket/fraud/1',
      run_id: runId,
      status: 'READY',
      current_stage: 'None',
      tags: [{ key: 'algo', value: 'xgb' }],
    });
    const v2 = await call('POST', 'model-versions/create', { name: 'fraud', source: 's3://bucket/fraud/2' });
    expect(v2.json.model_version.version).toBe('2');
    expect((await call('GET', 'model-versions/get?name=fraud&version=2')).json.model_version.source).toBe(
      's3://bucket/fraud/2',
    );
    expect(
      (
        await call('PATCH', 'model-versions/update', {
          name: 'fraud',
          version: '2',
          description: 'retrained',
        })
      ).json.model_version.description,
    ).toBe('retrained');
    await call('POST', 'model-versions/set-tag', {
      name: 'fraud',
      version: '2',
      key: 'validated',
      value: 'true',
    });
    await call('DELETE', 'model-versions/delete-tag', { name: 'fraud', version: '1', key: 'algo' });

    expect(
      (await call('POST', 'registered-models/alias', { name: 'fraud', alias: 'champion', version: '1' }))
        .json,
    ).toEqual({});
    const byAlias = await call('GET', 'registered-models/alias?name=fraud&alias=champion');
    expect(byAlias.json.model_version).toMatchObject({ version: '1', aliases: ['champion'] });
    expect((await call('GET', 'registered-models/get?name=fraud')).json.registered_model.aliases).toEqual([
      { alias: 'champion', version: '1' },
    ]);
    expect((await call('DELETE', 'registered-models/alias?name=fraud&alias=champion')).status).toBe(200);
    expect((await call('GET', 'registered-models/alias?name=fraud&alias=champion')).json.error_code).toBe(
      'RESOURCE_DOES_NOT_EXIST',
    );

    const latest = await call('POST', 'registered-models/get-latest-versions', { name: 'fraud' });
    expect(latest.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    expect(
      (await call('POST', 'registered-models/get-latest-versions', { name: 'fraud', stages: ['Production'] }))
        .json.model_versions,
    ).toEqual([]);

    const search = async (filter: string) =>
      (
        await call('GET', `model-versions/search?filter=${encodeURIComponent(filter)}`)
      ).json.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`);
    expect(await search("name = 'fraud'")).toEqual(['fraud/2', 'fraud/1']);
    expect(await search(`run_id = '${runId}'`)).toEqual(['fraud/1']);
    expect(await search("tags.validated = 'true'")).toEqual(['fraud/2']);
    expect(await search("name = 'fraud' AND tags.`validated` = 'false'")).toEqual([]);

    expect((await call('GET', 'model-versions/get-download-uri?name=fraud&version=1')).json).toEqual({
      artifact_uri: 's3://bucket/fraud/1',
    });
    expect((await call('DELETE', 'model-versions/delete', { name: 'fraud', version: '1' })).json).toEqual({});
    expect((await call('GET', 'model-versions/get?name=fraud&version=1')).status).toBe(404);
    expect((await call('GET', 'model-versions/get?name=fraud&version=x')).json.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    expect((await call('GET', 'nope/nothing')).json.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('answers MLflow error shapes for auth failures', async ({ skip }) => {
    if (!backend) skip();
    const response = await fetch(`${server.url}/api/2.0/mlflow/registered-models/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x"}',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error_code: 'UNAUTHENTICATED' });
  });
});
