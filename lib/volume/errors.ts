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
