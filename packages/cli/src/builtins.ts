/** What `ferry` answers itself before any command loads (main.ts): help and version. */
export const BUILTINS = ['help', 'version'] as const;
