import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient, sha256Digest } from '@ferry/registry-client';
import {
  freePort,
  hasDockerRegistry,
  type RunningOciRegistry,
  startOciRegistry,
} from './metadata-backends.helper.js';

const HTPASSWD = fileURLToPath(new URL('../../../fixtures/bundle-oci/htpasswd', import.meta.url));
const USER = { username: 'ferry', password: 'ferry-test-password' };
const present = hasDockerRegistry();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-oci-client-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Pushes 5000 random bytes in 1000-byte PATCH chunks and reads them back (whole and a range). */
async function roundTrip(client: OciClient): Promise<void> {
  const data = randomBytes(5000);
  const path = join(dir, `blob-${randomUUID()}`);
  await writeFile(path, data);
  const digest = sha256Digest(data);
  const progress: number[] = [];
  expect(
    await client.pushFile(path, digest, data.length, {
      chunkBytes: 1000,
      onProgress: (d) => progress.push(d),
    }),
  ).toEqual({
    created: true,
  });
  expect(progress).toEqual([1000, 2000, 3000, 4000, 5000]);
  expect(await client.statBlob(digest)).toBe(5000);
  expect(Buffer.compare(await collect(await client.getBlob(digest)), data)).toBe(0);
  expect(
    Buffer.compare(
      await collect(await client.getBlob(digest, { start: 10, end: 19 })),
      data.subarray(10, 20),
    ),
  ).toBe(0);
  // already there: HEAD says so and nothing is uploaded
  expect(await client.pushFile(path, digest, data.length)).toEqual({ created: false });
}

describe.skipIf(!present)('OciClient against docker-registry', () => {
  let registry: RunningOciRegistry;
  beforeAll(async () => {
    registry = await startOciRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('uploads in chunks, skips existing blobs, reads ranges', async () => {
    await roundTrip(new OciClient({ endpoint: registry.endpoint, repository: 'test/chunks' }));
  });

  it('resumes an upload from the offset the registry reports', async () => {
    const client = new OciClient({ endpoint: registry.endpoint, repository: 'test/resume' });
    const data = randomBytes(3000);
    let location = await client.startUpload();
    location = await client.patchChunk(location, 0, data.subarray(0, 1200));
    // a new process would only know the location: ask the registry where the upload stands
    const status = await client.uploadOffset(location);
    expect(status?.received).toEqual([1200]);
    location = await client.patchChunk(status!.location, 1200, data.subarray(1200));
    await client.commitUpload(location, sha256Digest(data));
    expect(await client.statBlob(sha256Digest(data))).toBe(3000);
  });

  it('refuses a commit whose digest does not match the bytes', async () => {
    const client = new OciClient({ endpoint: registry.endpoint, repository: 'test/digest' });
    const location = await client.patchChunk(await client.startUpload(), 0, Buffer.from('abc'));
    await expect(client.commitUpload(location, sha256Digest(Buffer.from('abd')))).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_DIGEST_MISMATCH',
    });
  });
});

describe.skipIf(!present)('OciClient auth', () => {
  it('answers a Basic challenge with the credentials (htpasswd), and says which are missing', async () => {
    const registry = await startOciRegistry([
      'auth:',
      '  htpasswd:',
      '    realm: ferry-test',
      `    path: ${HTPASSWD}`,
    ]);
    try {
      await roundTrip(
        new OciClient({ endpoint: registry.endpoint, repository: 'auth/basic', credentials: USER }),
      );
      const anonymous = new OciClient({ endpoint: registry.endpoint, repository: 'auth/basic' });
      await expect(anonymous.statBlob(sha256Digest(Buffer.from('x')))).rejects.toThrow(
        /FERRY_OCI_USERNAME and FERRY_OCI_PASSWORD/,
      );
      const wrong = new OciClient({
        endpoint: registry.endpoint,
        repository: 'auth/basic',
        credentials: { username: 'ferry', password: 'wrong' },
      });
      await expect(wrong.statBlob(sha256Digest(Buffer.from('x')))).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_UNAUTHORIZED',
      });
    } finally {
      await registry.stop();
    }
  });

  it('fetches a Bearer token from the realm (Docker token protocol) and retries with it', async () => {
    // A token service as docker-registry expects one: RS256 JWTs whose x5c certificate is in the
    // registry's rootcertbundle (distribution docs/spec/auth/jwt.md). The registry verifies them.
    const key = join(dir, 'token.key');
    const cert = join(dir, 'token.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=ferry-test-token',
      ],
      { stdio: 'ignore' },
    );
    const pem = await readFile(cert, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const privateKey = await readFile(key, 'utf8');
    const requests: string[] = [];
    const tokenServer: Server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      requests.push(url.search);
      const auth = req.headers.authorization ?? '';
      if (auth !== `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`) {
        res.writeHead(401).end('{"details":"bad credentials"}');
        return;
      }
      const [, name, actions] = /^repository:([^:]+):(.+)$/.exec(url.searchParams.get('scope') ?? '') ?? [];
      const now = Math.floor(Date.now() / 1000);
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const body = `${b64({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] })}.${b64({
        iss: 'ferry-test',
        sub: USER.username,
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access: name ? [{ type: 'repository', name, actions: actions!.split(',') }] : [],
      })}`;
      const token = `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    });
    const port = await freePort();
    await new Promise<void>((r) => tokenServer.listen(port, '127.0.0.1', r));
    const registry = await startOciRegistry([
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${port}/token`,
      '    service: ferry-test-registry',
      '    issuer: ferry-test',
      `    rootcertbundle: ${cert}`,
    ]);
    try {
      await roundTrip(
        new OciClient({ endpoint: registry.endpoint, repository: 'auth/bearer', credentials: USER }),
      );
      expect(requests[0]).toContain('service=ferry-test-registry');
      expect(decodeURIComponent(requests[0]!)).toContain('scope=repository:auth/bearer:');
      const wrong = new OciClient({
        endpoint: registry.endpoint,
        repository: 'auth/bearer',
        credentials: { username: 'ferry', password: 'wrong' },
      });
      await expect(wrong.statBlob(sha256Digest(Buffer.from('x')))).rejects.toThrow(
        /token service .* answered HTTP 401/,
      );
    } finally {
      await registry.stop();
      await new Promise((r) => tokenServer.close(r));
    }
  });
});
