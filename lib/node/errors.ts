/** An Error with a `code` (and any extra fields, such as `current` on ECONFLICT) callers switch on. */
export function codedError(code: string, message: string, extra: object = {}): Error & { code: string } {
  return Object.assign(new Error(message), { code }, extra)
}

/**
 * The code of a read that could not tell whether a value exists: some of the
 * machines responsible for it did not answer, and none that did had it. Never
 * the same as "absent" (getRecord's null): see RingClient.getRecord.
 *
 * The Volume switches on the same string (lib/volume/value-store.ts, UNSURE):
 * it is part of the ValueStore contract, and lib/node may not import lib/volume,
 * so each layer names it; lib/app/ring-value-store.ts fails to compile if the
 * two ever differ.
 */
export const UNSURE = 'EUNSURE'
