/** Limits of PyTorch's legacy tar checkpoint reader (legacy-tar.ts). */

/** Members of a legacy tar: torch reads four; a tar of thousands is no checkpoint (CWE-770). */
export const MAX_LEGACY_TAR_MEMBERS = 64;

/** Storage or tensor records one member declares: each is a pickle run (CWE-770). */
export const MAX_LEGACY_TAR_RECORDS = 1_000_000;
