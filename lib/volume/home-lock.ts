// One process at a time owns a home directory's volume: its journal, spool
// and (for the embedded store) its values. A lock file holds the owner's pid;
// a lock left by a crashed process is taken over.

import fs from 'node:fs'
import path from 'node:path'
import { volumeError } from './errors'

export class HomeLock {
  readonly file: string
  private held = false

  constructor(home: string) {
    this.file = path.join(home, 'volume.lock')
  }

  acquire(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
        this.held = true
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const pid = Number(fs.readFileSync(this.file, 'utf8').trim())
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw volumeError(
          'EBUSY',
          `another peerstore process (pid ${pid}) is using ${path.dirname(this.file)}; stop it (or unmount) first`
        )
      }
      fs.rmSync(this.file, { force: true })
    }
    throw volumeError('EBUSY', `could not lock ${this.file}`)
  }

  release(): void {
    if (!this.held) return
    this.held = false
    fs.rmSync(this.file, { force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
