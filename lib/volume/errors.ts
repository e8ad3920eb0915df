// Volume operations fail with POSIX error codes, which the FUSE adapter maps
// to errno numbers and the CLI prints.

export class VolumeError extends Error {
  code: string
  constructor(code: string, message?: string) {
    super(message ? `${code}: ${message}` : code)
    this.code = code
  }
}

export const fail = (code: string, message?: string): never => {
  throw new VolumeError(code, message)
}

/**
 * What makes two failures "the same cause" for logging once: the code and
 * the message with keys, ids and counts folded (one chunk's failure reads
 * like the next one's, "lookup of c65bde72 failed after 2 hops" like "…0 hops").
 */
export function causeKey(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null
  const message = String(e?.message ?? err).replace(/\b[0-9a-f]{6,}\b|\d+/gi, '#')
  return `${String(e?.code ?? '')} ${message}`
}
