// Special files (fifos, sockets, device nodes) in the Volume without FUSE:
// their records and journal entries keep type, mode and device number, they
// have no content to read or write, records written before they existed
// still read, and two devices of one user settle on them like on symlinks.

import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { decryptState, encryptState, type InodeState, stateFromWire, stateToWire } from '../../lib/volume/inode'
import type { Volume } from '../../lib/volume/volume'
import { tempDir } from '../helpers/temp-dir'
import { openVolume } from '../helpers/volume'

const S_IFIFO = 0o010000
const S_IFCHR = 0o020000
const S_IFBLK = 0o060000
const S_IFSOCK = 0o140000
/** dev_t as Linux encodes it in 32 bits (makedev). */
const makedev = (major: number, minor: number) => ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)

async function describe(v: Volume, p: string): Promise<string> {
  const inode = await v.resolve(p)
  const s = v.stat(inode)
  return `${inode.type} ${(s.mode >>> 0).toString(8)} rdev=${s.rdev} size=${s.size}`
}

test('fifos, sockets and devices keep type, mode and number across close, and across a crash', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir)
  await v1.mknod('/fifo', S_IFIFO | 0o640, 0)
  await v1.mknod('/sock', S_IFSOCK | 0o755, 0)
  await v1.mknod('/null', S_IFCHR | 0o666, makedev(1, 3))
  await v1.mknod('/disk', S_IFBLK | 0o660, makedev(259, 70_000))
  const want = [
    'fifo 10640 rdev=0 size=0',
    'socket 140755 rdev=0 size=0',
    `chardev 20666 rdev=${makedev(1, 3)} size=0`,
    `blockdev 60660 rdev=${makedev(259, 70_000)} size=0`
  ]
  const all = (v: Volume) => Promise.all(['/fifo', '/sock', '/null', '/disk'].map((p) => describe(v, p)))
  t.alike(await all(v1), want, 'as made')
  await v1.close()

  const v2 = await openVolume(home, storeDir)
  t.alike(await all(v2), want, 'from the store after close')
  t.is((await v2.checkAll(false)).problems.length, 0, 'the tree check accepts them')
  // Left without close(), as if killed: the next open has only the journal for these.
  await v2.mknod('/late-fifo', S_IFIFO | 0o600, 0)
  await v2.mknod('/late-dev', S_IFCHR | 0o600, makedev(10, 200))
  await v2.commit()
  t.teardown(() => v2.close().catch(() => {}))
  const v3 = await openVolume(home, storeDir)
  t.is(await describe(v3, '/late-fifo'), 'fifo 10600 rdev=0 size=0', 'replayed from the journal')
  t.is(await describe(v3, '/late-dev'), `chardev 20600 rdev=${makedev(10, 200)} size=0`, 'with its number')
  await v3.close()
})

test('a special file has no content; mknod makes no directory or symlink', async (t) => {
  const v = await openVolume(tempDir(t, 'home'), tempDir(t, 'store'))
  const fifo = await v.mknod('/fifo', S_IFIFO | 0o644, 0)
  t.is(fifo.data, null, 'no file data behind it: nothing reaches the chunk code')
  await t.exception(v.read(fifo, Buffer.alloc(10), 10, 0), /EINVAL/, 'read')
  await t.exception(v.write(fifo, Buffer.from('x'), 0), /EINVAL/, 'write')
  await t.exception(v.truncate(fifo, 0), /EINVAL/, 'truncate')
  await t.exception(v.mknod('/d', 0o040755, 0), /EPERM/, 'a directory through mknod')
  await t.exception(v.mknod('/l', 0o120777, 0), /EPERM/, 'a symlink through mknod')
  await t.exception(v.mknod('/x', 0o070644, 0), /EINVAL/, 'bits no type has')
  await t.exception(v.mknod('/fifo', S_IFIFO | 0o644, 0), /EEXIST/, 'an existing name')
  const file = await v.mknod('/file', 0o100600, 0)
  t.is(file.type, 'file', 'a regular file, as create makes it')
  await v.write(file, Buffer.from('abc'), 0)
  t.is(file.size, 3)
  await v.close()
})

test('records from before special files still read; rdev only for devices', (t) => {
  const old: Parameters<typeof stateFromWire>[0] = {
    t: 'd',
    m: 0o40755,
    u: 0,
    g: 0,
    at: 1,
    mt: 2,
    ct: 3,
    e: { a: ['00'.repeat(32), 'f'], b: ['11'.repeat(32), 'l'] }
  }
  const dir = stateFromWire(old)
  t.alike(
    [...dir.entries!.values()].map((e) => e.type),
    ['file', 'symlink']
  )
  t.is(dir.rdev, undefined)

  const id = randomBytes(32)
  const key = randomBytes(32)
  const dev: InodeState = {
    type: 'blockdev',
    mode: S_IFBLK | 0o600,
    uid: 0,
    gid: 0,
    atime: 1,
    mtime: 2,
    ctime: 3,
    xattrs: new Map(),
    rdev: makedev(8, 1)
  }
  t.is(decryptState(encryptState(dev, id, key), id, key).rdev, makedev(8, 1), 'a device keeps its number')
  const fifo = stateFromWire({ ...stateToWire({ ...dev, type: 'fifo', rdev: undefined }), r: 5 })
  t.is(fifo.rdev, undefined, 'a fifo never has one')
})

test('two devices of one user: one name made on both keeps both; a chmod on both keeps one', async (t) => {
  const storeDir = tempDir(t, 'store')
  const seed = randomBytes(32)
  const a = await openVolume(tempDir(t, 'home-a'), storeDir, { seed })
  await a.mknod('/shared-fifo', S_IFIFO | 0o644, 0)
  await a.sync()
  const b = await openVolume(tempDir(t, 'home-b'), storeDir, { seed })
  t.is(await describe(b, '/shared-fifo'), 'fifo 10644 rdev=0 size=0', 'b sees a fifo')

  // Both change the same fifo's mode: only metadata differs, so it stays one inode.
  a.chmod(await a.resolve('/shared-fifo'), 0o600)
  b.chmod(await b.resolve('/shared-fifo'), 0o604)
  await a.sync()
  await b.sync()
  t.alike(await b.readdir('/'), ['shared-fifo'], 'no conflict copy for a mode change')

  // Both make a device under one new name: two inodes, one keeps the name, the other is a copy.
  await a.mknod('/dev', S_IFCHR | 0o600, makedev(1, 3))
  await b.mknod('/dev', S_IFCHR | 0o600, makedev(1, 5))
  await a.sync()
  await b.sync()
  const names = (await b.readdir('/')).sort()
  const copy = names.find((n) => n.startsWith('dev (conflict'))
  t.ok(copy, `both kept: ${names.join(', ')}`)
  const numbers = [await describe(b, '/dev'), await describe(b, `/${copy}`)].map((d) => d.split(' ')[2]).sort()
  t.alike(numbers, [`rdev=${makedev(1, 3)}`, `rdev=${makedev(1, 5)}`].sort(), 'each with its own number')
  await a.close()
  await b.close()
})
