/** Thrown for an option value that cannot be used; the CLI prints its message and exits with code 2. */
export class OptionError extends Error {
  override name = 'OptionError';
}
