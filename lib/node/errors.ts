/** An Error with a `code` (and any extra fields, such as `current` on ECONFLICT) callers switch on. */
export function codedError(code: string, message: string, extra: object = {}): Error & { code: string } {
  return Object.assign(new Error(message), { code }, extra)
}
