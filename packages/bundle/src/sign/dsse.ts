/**
 * DSSE (secure-systems-lab/dsse, protocol.md): the signature covers the pre-authentication
 * encoding PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, with LEN the
 * ASCII decimal byte length, so the payload type is signed too and nothing is canonicalised.
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

export interface DsseEnvelope {
  /** base64 of the statement's bytes. */
  readonly payload: string;
  readonly payloadType: string;
  readonly signatures: readonly { readonly sig: string; readonly keyid: string }[];
}

/**
 * The signature file: a Sigstore bundle (v0.3 JSON) holding the DSSE envelope and, for key-based
 * signing, the public key's hint, as model_signing writes it for `sign key` (no transparency log).
 */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface SignatureFile {
  readonly mediaType: typeof SIGSTORE_BUNDLE_MEDIA_TYPE;
  readonly verificationMaterial: {
    readonly publicKey: { readonly hint: string };
    readonly tlogEntries: readonly unknown[];
  };
  readonly dsseEnvelope: DsseEnvelope;
}
