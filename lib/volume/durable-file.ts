// Crash-safe file replacement: a reader (or the next process after SIGKILL or
// power loss) sees the old content or the new one, never a torn mix.

import { randomBytes } from 'node:crypto'
import fsp from 'node:fs/promises'
import path from 'node:path'

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await fsp.open(dir, 'r')
  try {
    await fd.sync()
  } finally {
    await fd.close()
  }
}

/** Writes `data` to `file` via temp file + fsync + rename (+ fsync of the directory). */
export async function writeFileDurable(
  file: string,
  data: Uint8Array,
  opts: { syncDir?: boolean } = {}
): Promise<void> {
  const tmp = path.join(path.dirname(file), `.tmp-${randomBytes(6).toString('hex')}`)
  const fd = await fsp.open(tmp, 'w', 0o600)
  try {
    await fd.writeFile(data)
    await fd.sync()
  } catch (err) {
    await fd.close().catch(() => {})
    await fsp.rm(tmp, { force: true })
    throw err
  }
  await fd.close()
  await fsp.rename(tmp, file)
  if (opts.syncDir !== false) await fsyncDir(path.dirname(file))
}

export async function readFileOrNull(file: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}
