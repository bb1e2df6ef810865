/**
 * A Hub error: the X-Error-Code header huggingface_hub and huggingface.js read, and `{error}`.
 * The codes are the Hub's own (huggingface_hub utils/_http.py reads RepoNotFound, RevisionNotFound,
 * EntryNotFound; 4xx without one are shown with their message).
 */
export class HubError extends Error {
  constructor(
    readonly hubCode: 'RepoNotFound' | 'RevisionNotFound' | 'EntryNotFound' | 'BadRequest' | 'Conflict',
    message: string,
    readonly status = hubCode === 'BadRequest' ? 400 : hubCode === 'Conflict' ? 409 : 404,
  ) {
    super(message);
  }
}

/** A path in the Hub's URL space (not ferry's /api/v1), whose errors take the Hub's shape. */
export function isHubPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return (
    /^\/api\/(models|datasets|spaces|repos|whoami)(\/|-|$)/.test(path) ||
    /\.git\/info\/lfs\//.test(path) ||
    /^\/[^/]+\/[^/]+\/(resolve|raw)\//.test(path)
  );
}
