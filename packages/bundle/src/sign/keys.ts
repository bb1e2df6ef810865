import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { bundleError } from '../errors.js';

/** A PEM key file is a few hundred bytes; anything this large is not one. */
const MAX_KEY_BYTES = 64 * 1024;

export interface KeyFiles {
  readonly privateKey: string;
  readonly publicKey: string;
}

/**
 * Makes an Ed25519 key pair and writes PREFIX.key (PKCS#8 PEM, mode 0600, created exclusively so
 * an existing key is never overwritten) and PREFIX.pub (SPKI PEM).
 */
export async function generateKeyFiles(prefix: string): Promise<KeyFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const files = { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` };
  for (const path of [files.privateKey, files.publicKey]) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists)
      throw bundleError('FERRY_BUNDLE_OUTPUT', {
        path,
        rule: 'already exists; ferry keygen never overwrites a key',
      });
  }
  await writeExclusive(
    files.privateKey,
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    0o600,
  );
  await writeExclusive(files.publicKey, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);
  return files;
}

async function writeExclusive(path: string, text: string, mode: number): Promise<void> {
  const file = await open(path, 'wx', mode).catch((error: NodeJS.ErrnoException) => {
    throw bundleError('FERRY_BUNDLE_OUTPUT', { path, rule: `cannot create: ${error.message}` }, error);
  });
  try {
    await file.writeFile(text);
    await file.chmod(mode); // the umask may have cleared bits of `mode`; set exactly what was asked
  } finally {
    await file.close();
  }
}

async function readKeyText(path: string): Promise<string> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw bundleError('FERRY_BUNDLE_KEY', { path, rule: `cannot read: ${error.message}` }, error);
  });
  if (info.size > MAX_KEY_BYTES)
    throw bundleError('FERRY_BUNDLE_KEY', { path, rule: `is ${info.size} bytes: not a PEM key` });
  return readFile(path, 'utf8');
}

export async function loadPrivateKey(path: string): Promise<KeyObject> {
  const text = await readKeyText(path);
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (error) {
    throw bundleError('FERRY_BUNDLE_KEY', {
      path,
      rule: `is not an unencrypted PEM private key (${(error as Error).message})`,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw bundleError('FERRY_BUNDLE_KEY', {
      path,
      rule: `is a ${key.asymmetricKeyType} key; ferry signs with Ed25519 (ferry keygen)`,
    });
  return key;
}

export async function loadPublicKey(path: string): Promise<KeyObject> {
  const text = await readKeyText(path);
  if (/PRIVATE KEY/.test(text))
    throw bundleError('FERRY_BUNDLE_KEY', {
      path,
      rule: 'is a private key; verify takes the public key (PREFIX.pub)',
    });
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (error) {
    throw bundleError('FERRY_BUNDLE_KEY', {
      path,
      rule: `is not a PEM public key (${(error as Error).message})`,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw bundleError('FERRY_BUNDLE_KEY', {
      path,
      rule: `is a ${key.asymmetricKeyType} key; ferry verifies Ed25519 signatures`,
    });
  return key;
}

/**
 * The key hint model_signing writes in verificationMaterial.publicKey.hint: SHA-256 (hex) of the
 * public key's SPKI PEM text (sigstore/model-transparency, _signing/sign_ec_key.py).
 */
export function publicKeyHint(key: KeyObject): string {
  const pem = (key.type === 'private' ? createPublicKey(key) : key).export({
    type: 'spki',
    format: 'pem',
  }) as string;
  return createHash('sha256').update(pem).digest('hex');
}
