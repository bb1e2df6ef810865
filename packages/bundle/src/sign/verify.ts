import { verify } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { digestProblems, hashEntries, openBundle } from '../archive/read-bundle.js';
import { bundleError } from '../errors.js';
import { MAX_SIGNATURE_BYTES } from '../limits.js';
import { readTarIndex } from '../tar/reader.js';
import { pae, SIGSTORE_BUNDLE_MEDIA_TYPE } from './dsse.js';
import { loadPublicKey, publicKeyHint } from './keys.js';
import { defaultSignaturePath } from './sign.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  MODEL_SIGNING_PREDICATE_TYPE,
  type ModelSigningStatement,
  type Resource,
  rootDigest,
} from './statement.js';

export interface VerifyResult {
  readonly bundle: string;
  readonly signature: string;
  readonly name: string;
  readonly version: string;
  /** The statement's subject digest: one SHA-256 for the whole signed content. */
  readonly digest: string;
  readonly files: number;
  readonly keyHint: string;
}

/**
 * Verifies a bundle against its signature and a public key, in order: the signature file's shape,
 * the key hint, the Ed25519 signature over the DSSE PAE, the statement's shape and subject digest,
 * then every entry of the bundle against the signed resources (naming each file changed, added or
 * removed, the manifest included) and against the manifest. Any failure throws; nothing is trusted
 * before the signature verifies.
 */
export async function verifyBundle(
  bundlePath: string,
  publicKeyPath: string,
  signaturePath?: string,
): Promise<VerifyResult> {
  const key = await loadPublicKey(publicKeyPath);
  const sigPath = signaturePath ?? defaultSignaturePath(bundlePath);
  const fail = (rule: string) => bundleError('FERRY_BUNDLE_SIGNATURE', { path: sigPath, rule });
  const info = await stat(sigPath).catch((error: NodeJS.ErrnoException) => {
    throw fail(error.code === 'ENOENT' ? 'no signature file (ferry sign writes BUNDLE.sig)' : error.message);
  });
  if (info.size > MAX_SIGNATURE_BYTES)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path: sigPath,
      what: 'the signature file',
      value: info.size,
      limit: MAX_SIGNATURE_BYTES,
      reason: 'MAX_SIGNATURE_BYTES, CWE-770',
    });
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(sigPath, 'utf8'));
  } catch (error) {
    throw fail(`is not valid JSON (${(error as Error).message})`);
  }
  const d = doc as {
    mediaType?: unknown;
    verificationMaterial?: { publicKey?: { hint?: unknown } };
    dsseEnvelope?: { payload?: unknown; payloadType?: unknown; signatures?: { sig?: unknown }[] };
  } | null;
  if (d?.mediaType !== SIGSTORE_BUNDLE_MEDIA_TYPE)
    throw fail(`mediaType must be ${SIGSTORE_BUNDLE_MEDIA_TYPE}, not ${JSON.stringify(d?.mediaType)}`);
  const envelope = d.dsseEnvelope;
  if (
    typeof envelope?.payload !== 'string' ||
    typeof envelope.payloadType !== 'string' ||
    !Array.isArray(envelope.signatures)
  )
    throw fail('dsseEnvelope must hold payload, payloadType and signatures');
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw fail(
      `the envelope's payloadType is ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  if (envelope.signatures.length !== 1 || typeof envelope.signatures[0]?.sig !== 'string')
    throw fail('the envelope must hold exactly one signature');
  const hint = d.verificationMaterial?.publicKey?.hint;
  const expectedHint = publicKeyHint(key);
  if (hint !== expectedHint)
    throw fail(
      `was made with another key (key hint ${String(hint).slice(0, 16)}..., ${publicKeyPath} is ${expectedHint.slice(0, 16)}...)`,
    );
  const payload = Buffer.from(envelope.payload, 'base64');
  const sig = Buffer.from(envelope.signatures[0].sig as string, 'base64');
  if (!verify(null, pae(envelope.payloadType, payload), key, sig))
    throw fail('the Ed25519 signature does not verify: the signature or the signed statement was changed');

  // The statement is now known to come from the key's owner; check it is one ferry understands.
  let statement: ModelSigningStatement;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    throw fail('the signed payload is not JSON');
  }
  if (statement?._type !== IN_TOTO_STATEMENT_TYPE)
    throw fail(`the statement _type is not ${IN_TOTO_STATEMENT_TYPE}`);
  if (statement.predicateType !== MODEL_SIGNING_PREDICATE_TYPE)
    throw fail(
      `the predicateType is ${JSON.stringify(statement.predicateType)}, not ${MODEL_SIGNING_PREDICATE_TYPE}`,
    );
  const resources: readonly Resource[] = statement.predicate?.resources ?? [];
  if (!Array.isArray(resources) || statement.subject?.length !== 1)
    throw fail('the statement needs one subject and a resources list');
  if (rootDigest(resources) !== statement.subject[0].digest?.sha256)
    throw fail("the subject digest is not the hash of the resources' digests");

  // Compare the bytes with the signed resources before reading the manifest, so a changed or
  // added file is named as such even when the manifest no longer lists it.
  const entries = await readTarIndex(bundlePath);
  const digests = await hashEntries(bundlePath, entries);
  const signed = new Map(resources.map((r) => [r.name, r.digest]));
  const changes: string[] = [];
  for (const [path, digest] of digests) {
    const before = signed.get(path);
    if (before === undefined) changes.push(`${path} was added`);
    else if (before !== digest)
      changes.push(
        `${path} changed (sha256 ${before.slice(0, 12)}... signed, ${digest.slice(0, 12)}... now)`,
      );
    signed.delete(path);
  }
  for (const path of signed.keys()) changes.push(`${path} was removed`);
  if (changes.length > 0)
    throw bundleError('FERRY_BUNDLE_TAMPERED', { path: bundlePath, changes: changes.join('; ') });
  // Signed and unchanged; the manifest must still agree with the bytes (it did when signed).
  const bundle = await openBundle(bundlePath, entries);
  const problems = digestProblems(bundle, digests);
  if (problems.length > 0)
    throw bundleError('FERRY_BUNDLE_DIGEST', { path: bundlePath, rule: problems.join('; ') });
  return {
    bundle: bundlePath,
    signature: sigPath,
    name: bundle.manifest.name,
    version: bundle.manifest.version,
    digest: statement.subject[0].digest.sha256,
    files: bundle.entries.length,
    keyHint: expectedHint,
  };
}
