import type { ApiError } from '../api.js';

export function ErrorBox({ error }: { error: Error | ApiError | undefined }) {
  if (!error) return null;
  const code = (error as ApiError).code;
  const status = (error as ApiError).status;
  return (
    <div class="error" role="alert">
      {status ? <strong>{status} </strong> : null}
      {code ? <code>{code}</code> : null} {error.message}
    </div>
  );
}

/** A page that could not load: a heading (focus lands on it) and the registry's answer. */
export function PageError({ error }: { error: Error | ApiError }) {
  const status = (error as ApiError).status;
  return (
    <section>
      <h1>{status === 404 ? 'Not found' : status === 401 || status === 403 ? 'Not allowed' : 'Error'}</h1>
      <ErrorBox error={error} />
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

const SCAN_TEXT: Record<string, string> = {
  safe: 'Scanned: every file was read whole and nothing in it runs code on load.',
  unsafe: 'Unsafe: the scan found something that runs code when loaded (downloads need --force).',
  invalid:
    'Invalid: every file was read and nothing runs code on load, but a file breaks its format (downloads need --force).',
  error: 'Error: a file could not be read to its end, so it was not shown safe (downloads need --force).',
  unknown:
    'Unknown: a file is no format ferry recognises, so it was not shown safe (downloads need --force).',
  pending: 'Pending: the version is not committed yet.',
};

export function ScanBadge({ scan }: { scan: string }) {
  return (
    <span class={`badge scan-${scan}`} title={SCAN_TEXT[scan]}>
      {scan}
    </span>
  );
}

export const scanExplanation = (scan: string) => SCAN_TEXT[scan] ?? scan;
