import { sign } from 'node:crypto';
import { digestProblems, hashEntries, openBundle } from '../archive/read-bundle.js';
import { bundleError } from '../errors.js';
import { writeFileAtomic } from '../io.js';
import { pae, SIGSTORE_BUNDLE_MEDIA_TYPE, type SignatureFile } from './dsse.js';
import { loadPrivateKey, publicKeyHint } from './keys.js';
import { buildStatement, IN_TOTO_PAYLOAD_TYPE, type ModelSigningStatement } from './statement.js';

/** The default place of a bundle's signature: beside it, as BUNDLE.sig. */
export function defaultSignaturePath(bundle: string): string {
  return `${bundle}.sig`;
}

export interface SignResult {
  readonly bundle: string;
  readonly signature: string;
  readonly statement: ModelSigningStatement;
  readonly keyHint: string;
}

/**
 * Signs a bundle: checks it (safe entries, every digest equal to the manifest's), builds the
 * model-signing statement over every entry (the manifest included), signs its DSSE PAE with the
 * Ed25519 key and writes the signature file beside the bundle. The bundle itself is not changed,
 * so its bytes (and its OCI digest) stay those of `ferry pack`.
 */
export async function signBundle(
  bundlePath: string,
  keyPath: string,
  signaturePath?: string,
): Promise<SignResult> {
  const key = await loadPrivateKey(keyPath);
  const bundle = await openBundle(bundlePath);
  const digests = await hashEntries(bundle.path, bundle.entries);
  const problems = digestProblems(bundle, digests);
  if (problems.length > 0)
    throw bundleError('FERRY_BUNDLE_DIGEST', {
      path: bundlePath,
      rule: `refusing to sign a bundle that disagrees with its manifest: ${problems.join('; ')}`,
    });
  const statement = buildStatement(bundle.manifest.name, digests);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = sign(null, pae(IN_TOTO_PAYLOAD_TYPE, payload), key);
  const file: SignatureFile = {
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(key) }, tlogEntries: [] },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
  const output = signaturePath ?? defaultSignaturePath(bundlePath);
  await writeFileAtomic(output, async (handle) => {
    await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
  });
  return {
    bundle: bundlePath,
    signature: output,
    statement,
    keyHint: file.verificationMaterial.publicKey.hint,
  };
}
