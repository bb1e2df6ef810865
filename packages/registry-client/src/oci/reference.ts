import { registryError } from '../errors.js';

/** `oci://HOST[:PORT]/REPO[:TAG|@sha256:HEX]`, split. */
export interface OciReference {
  /** `http://HOST:PORT` for `oci://` on a loopback host, else `https://HOST`; `ocis://` forces HTTPS. */
  readonly endpoint: string;
  readonly host: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isOciReference(value: string): boolean {
  return /^ocis?(\+http)?:\/\//.test(value);
}

/**
 * Parses an OCI reference. Plain `oci://` uses HTTPS except for loopback hosts (127.0.0.1,
 * localhost, [::1]), as docker treats them as insecure registries by default; `oci+http://`
 * asks for plain HTTP to any host (a lab registry), `ocis://` for HTTPS always.
 */
export function parseOciReference(value: string): OciReference {
  const bad = (reason: string) =>
    registryError('FERRY_REGISTRY_BAD_REQUEST', { what: `OCI reference ${JSON.stringify(value)}`, reason });
  const m = /^(ocis|oci\+http|oci):\/\/([^/@\s]+)\/([^\s]+)$/.exec(value);
  if (!m) throw bad('expected oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]');
  const [, scheme, host, rest] = m as unknown as [string, string, string, string];
  let repository = rest;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    repository = rest.slice(0, at);
    digest = rest.slice(at + 1);
    if (!DIGEST.test(digest)) throw bad(`digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      repository = rest.slice(0, colon);
      tag = rest.slice(colon + 1);
      if (!TAG.test(tag)) throw bad(`tag ${JSON.stringify(tag)} breaks the distribution-spec tag rule`);
    }
  }
  if (!/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/.test(repository))
    throw bad(`repository ${JSON.stringify(repository)} must be lowercase path components`);
  const hostname = host.replace(/:\d+$/, '');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  const http = scheme === 'oci+http' || (scheme === 'oci' && loopback);
  return {
    endpoint: `${http ? 'http' : 'https'}://${host}`,
    host,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

export function formatOciReference(ref: OciReference, digest?: string): string {
  return `oci://${ref.host}/${ref.repository}${digest ? `@${digest}` : ref.tag ? `:${ref.tag}` : ''}`;
}
