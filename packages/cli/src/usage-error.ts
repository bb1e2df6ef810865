/** A command line that cannot be run as given: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
