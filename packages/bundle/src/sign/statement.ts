import { createHash } from 'node:crypto';

/**
 * The in-toto statement of the OpenSSF model-signing format v1.0 (sigstore/model-transparency,
 * src/model_signing/_signing/signing.py, class Payload): every file's digest in the predicate's
 * `resources` (sorted by name), and one subject whose sha256 is the hash of all resource digests
 * concatenated in that order, so other documents can refer to the whole model by one digest.
 */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const MODEL_SIGNING_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';

export interface Resource {
  readonly name: string;
  readonly algorithm: 'sha256';
  readonly digest: string;
}

export interface ModelSigningStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly [{ readonly name: string; readonly digest: { readonly sha256: string } }];
  readonly predicateType: typeof MODEL_SIGNING_PREDICATE_TYPE;
  readonly predicate: {
    readonly serialization: {
      readonly method: 'files';
      readonly hash_type: 'sha256';
      readonly allow_symlinks: false;
      readonly ignore_paths: readonly string[];
    };
    readonly resources: readonly Resource[];
  };
}

function byName(a: Resource, b: Resource): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

/** SHA-256 over the raw bytes of every resource digest, in order (model_signing's subject digest). */
export function rootDigest(resources: readonly Resource[]): string {
  const hash = createHash('sha256');
  for (const r of resources) hash.update(Buffer.from(r.digest, 'hex'));
  return hash.digest('hex');
}

export function buildStatement(name: string, digests: ReadonlyMap<string, string>): ModelSigningStatement {
  const resources: Resource[] = [...digests]
    .map(([path, digest]) => ({ name: path, algorithm: 'sha256' as const, digest }))
    .sort(byName);
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name, digest: { sha256: rootDigest(resources) } }],
    predicateType: MODEL_SIGNING_PREDICATE_TYPE,
    predicate: {
      // The bundle's entries are the files; a bundle holds no symlinks and nothing is ignored.
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: [] },
      resources,
    },
  };
}
