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
