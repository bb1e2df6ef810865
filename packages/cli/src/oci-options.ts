import type { OciCredentials } from '@ferry/registry-client';
import { stringOption } from './options.js';
import type { OptionSpec, ParsedArgs } from './command.js';

/** Options of the commands that talk to OCI registries (push/pull/serve with oci://). */
export const OCI_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'oci-username': {
    type: 'string',
    valueName: 'USER',
    description: 'OCI registry user (else FERRY_OCI_USERNAME); the password comes from FERRY_OCI_PASSWORD',
  },
};

/**
 * Credentials for an OCI registry: the user from --oci-username or FERRY_OCI_USERNAME, the password
 * (or token) only from FERRY_OCI_PASSWORD, so it never shows in `ps` or shell history. Used for
 * Basic auth and for the token endpoint of Bearer auth, only when the registry asks.
 */
export function ociCredentials(args: ParsedArgs): OciCredentials | undefined {
  const username = stringOption(args.values, 'oci-username') ?? process.env.FERRY_OCI_USERNAME;
  const password = process.env.FERRY_OCI_PASSWORD;
  if (username === undefined || password === undefined) return undefined;
  return { username, password };
}
