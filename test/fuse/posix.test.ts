// POSIX semantics programs rely on, checked against a real mount.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { waitFor } from '../helpers/wait'

test('posix semantics', { timeout: 120_000 }, async (t) => {
  const m = await startMount(t)
  const p = (name: string) => path.join(m.dir, name)

  await t.test('O_EXCL refuses an existing file', (t) => {
    fs.writeFileSync(p('excl'), 'a')
    t.exception(
      () => fs.openSync(p('excl'), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY),
      /EEXIST/
    )
  })

  await t.test('O_APPEND writes at the end', (t) => {
    fs.writeFileSync(p('append'), 'hello')
    const fd = fs.openSync(p('append'), 'a')
    fs.writeSync(fd, ' world')
    fs.writeSync(fd, '!', 0)
    fs.closeSync(fd)
    fs.appendFileSync(p('append'), '?')
    t.is(fs.readFileSync(p('append'), 'utf8'), 'hello world!?')
  })

  await t.test('O_TRUNC empties the file', (t) => {
    fs.writeFileSync(p('trunc'), 'long content here')
    fs.writeFileSync(p('trunc'), 'x')
    t.is(fs.readFileSync(p('trunc'), 'utf8'), 'x')
  })

  await t.test('reads past EOF return 0 bytes, short reads at EOF', (t) => {
    fs.writeFileSync(p('eof'), 'abc')
    const fd = fs.openSync(p('eof'), 'r')
    const buf = Buffer.alloc(10)
    t.is(fs.readSync(fd, buf, 0, 10, 100), 0)
    t.is(fs.readSync(fd, buf, 0, 10, 1), 2)
    fs.closeSync(fd)
  })

  await t.test('sparse writes read as zeros; random offsets', (t) => {
    const fd = fs.openSync(p('sparse'), 'w+')
    fs.writeSync(fd, Buffer.from('end'), 0, 3, 3 * 1024 * 1024 + 17)
    fs.writeSync(fd, Buffer.from('mid'), 0, 3, 1024 * 1024 - 1)
    fs.closeSync(fd)
    const data = fs.readFileSync(p('sparse'))
    t.is(data.length, 3 * 1024 * 1024 + 20)
    t.is(data.subarray(1024 * 1024 - 1, 1024 * 1024 + 2).toString(), 'mid')
    t.is(data.subarray(data.length - 3).toString(), 'end')
    t.is(
      data.subarray(0, 1024 * 1024 - 1).every((b) => b === 0),
      true
    )
    t.is(
      data.subarray(1024 * 1024 + 2, data.length - 3).every((b) => b === 0),
      true
    )
  })

  await t.test('truncate down then up shows zeros, not old bytes', (t) => {
    fs.writeFileSync(p('shrink'), Buffer.alloc(5000, 7))
    fs.truncateSync(p('shrink'), 10)
    fs.truncateSync(p('shrink'), 100)
    const d = fs.readFileSync(p('shrink'))
    t.is(d.length, 100)
    t.is(
      d.subarray(0, 10).every((b) => b === 7),
      true
    )
    t.is(
      d.subarray(10).every((b) => b === 0),
      true
    )
    const fd = fs.openSync(p('shrink'), 'r+')
    fs.ftruncateSync(fd, 3)
    fs.closeSync(fd)
    t.is(fs.statSync(p('shrink')).size, 3)
  })

  await t.test('rename over an existing file and an empty dir; not over a full dir', (t) => {
    fs.writeFileSync(p('r1'), 'one')
    fs.writeFileSync(p('r2'), 'two')
    fs.renameSync(p('r1'), p('r2'))
    t.is(fs.readFileSync(p('r2'), 'utf8'), 'one')
    t.absent(fs.existsSync(p('r1')))
    fs.mkdirSync(p('d1'))
    fs.writeFileSync(p('d1/f'), 'f')
    fs.mkdirSync(p('d2'))
    fs.renameSync(p('d1'), p('d2'))
    t.is(fs.readFileSync(p('d2/f'), 'utf8'), 'f')
    fs.mkdirSync(p('d3'))
    t.exception(() => fs.renameSync(p('d3'), p('d2')), /ENOTEMPTY/)
    t.exception(() => fs.renameSync(p('d2'), p('d2/inside')), /EINVAL/)
    t.exception(() => fs.rmdirSync(p('d2')), /ENOTEMPTY/)
  })

  await t.test('renamed and unlinked open files keep working', async (t) => {
    const fd = fs.openSync(p('open1'), 'w+')
    fs.writeSync(fd, 'before')
    fs.renameSync(p('open1'), p('open2'))
    fs.writeSync(fd, '-after')
    fs.unlinkSync(p('open2'))
    t.absent(fs.existsSync(p('open2')))
    fs.writeSync(fd, '-gone')
    const buf = Buffer.alloc(100)
    const n = fs.readSync(fd, buf, 0, 100, 0)
    t.is(buf.subarray(0, n).toString(), 'before-after-gone')
    t.is(fs.fstatSync(fd).size, 17)
    fs.closeSync(fd)
    // The kernel sends RELEASE (which unlinks the .fuse_hidden name) just after close() returns.
    const hidden = () => fs.readdirSync(m.dir).some((n) => n.startsWith('.fuse_hidden'))
    await waitFor('the hidden file gone', () => !hidden(), { timeoutMs: 2000, intervalMs: 20, failOnTimeout: false })
    t.absent(hidden(), 'hidden file gone after release')
  })

  await t.test('modes, owners, times and symlinks', (t) => {
    fs.writeFileSync(p('m'), 'x')
    fs.chmodSync(p('m'), 0o640)
    t.is(fs.statSync(p('m')).mode & 0o7777, 0o640)
    fs.chownSync(p('m'), 1234, 5678)
    t.is(fs.statSync(p('m')).uid, 1234)
    t.is(fs.statSync(p('m')).gid, 5678)
    const when = new Date('2020-01-02T03:04:05Z')
    fs.utimesSync(p('m'), when, when)
    t.is(fs.statSync(p('m')).mtime.getTime(), when.getTime())
    fs.symlinkSync('m', p('link'))
    t.is(fs.readlinkSync(p('link')), 'm')
    t.is(fs.readFileSync(p('link'), 'utf8'), 'x')
    t.ok(fs.lstatSync(p('link')).isSymbolicLink())
    // Hard links (test/fuse/hard-links.test.ts has the rest): a file may have two names, a folder not.
    fs.linkSync(p('m'), p('hard'))
    t.is(fs.statSync(p('hard')).ino, fs.statSync(p('m')).ino, 'a hard link is the same inode')
    fs.mkdirSync(p('dir-to-link'))
    t.exception(() => fs.linkSync(p('dir-to-link'), p('dir-link')), /EPERM/, 'a folder cannot be hard-linked')
    const before = Date.now() - 2000
    fs.writeFileSync(p('fresh'), 'abc')
    const st = fs.statSync(p('fresh'))
    t.is(st.size, 3)
    t.ok(st.mtimeMs >= before, 'mtime right after a write')
  })

  await t.test('xattrs: user.* stored, peerstore status reported by name but not listed, others refused', (t) => {
    fs.writeFileSync(p('x'), 'data')
    const status = sh(`python3 -c "import os;print(os.getxattr('${p('x')}','user.peerstore.status').decode())"`)
    t.ok(/replicas=(\d+\/\d+|unknown) upload-pending=/.test(status), status.trim())
    sh(`python3 -c "import os;os.setxattr('${p('x')}','user.color',b'blue')"`)
    t.is(sh(`python3 -c "import os;print(os.getxattr('${p('x')}','user.color').decode())"`).trim(), 'blue')
    const names = sh(`python3 -c "import os;print(sorted(os.listxattr('${p('x')}')))"`)
    t.ok(names.includes('user.color'), names.trim())
    // Listed, `cp -a` and `rsync -X` out of the mount would copy a stale status onto local files.
    t.absent(names.includes('user.peerstore.status'), 'the status attribute is not listed')
    sh(`python3 -c "import os;os.removexattr('${p('x')}','user.color')"`)
    t.exception(() => sh(`python3 -c "import os;os.getxattr('${p('x')}','user.color')"`), /No data|ENODATA/)
    t.exception(
      () => sh(`python3 -c "import os;os.setxattr('${p('x')}','trusted.x',b'1')"`),
      /not supported|EOPNOTSUPP|ENOTSUP|Operation/
    )
  })

  await t.test(
    'inode numbers are stable: the root is 1, a file keeps its number across renames and after the kernel forgets it',
    (t) => {
      t.is(fs.statSync(m.dir).ino, 1, 'the root')
      fs.writeFileSync(p('stable'), 'x')
      fs.mkdirSync(p('stable-dir'))
      const file = fs.statSync(p('stable')).ino
      const dir = fs.statSync(p('stable-dir')).ino
      t.ok(file > 1 && dir > 1 && file !== dir, `${file}, ${dir}`)
      fs.renameSync(p('stable'), p('stable-dir/moved'))
      t.is(fs.statSync(p('stable-dir/moved')).ino, file, 'a rename keeps the number')
      // As root the kernel can be made to forget every unused inode; libfuse's own numbers then start again.
      let forgot = false
      try {
        fs.writeFileSync('/proc/sys/vm/drop_caches', '2')
        forgot = true
      } catch {}
      if (!forgot) t.comment('not root: the kernel was not made to forget inodes')
      t.is(fs.statSync(p('stable-dir/moved')).ino, file, 'the same number after the kernel forgot the inode')
      t.is(fs.statSync(p('stable-dir')).ino, dir)
    }
  )

  await t.test('inode numbers have 48 bits, the same in stat and in a directory listing', (t) => {
    // With 32 bits (fuse-native as shipped) a tree of 10,000 files had two with one number with a
    // chance of about 1%, and cp/diff take two paths with one number for one file.
    fs.mkdirSync(p('wide'))
    for (let i = 0; i < 16; i++) fs.writeFileSync(p(`wide/f${i}`), String(i))
    const stats = new Map(fs.readdirSync(p('wide')).map((n) => [n, fs.statSync(p(`wide/${n}`)).ino]))
    const wide = [...stats.values()].filter((ino) => ino > 0xffffffff).length
    t.ok(wide > 0, `${wide} of 16 numbers above 2^32 (all 16 below would have a chance of 2^-256)`)
    const listed = sh(
      `python3 -c "import os,sys;[print(e.name, e.inode()) for e in os.scandir(sys.argv[1])]" ${p('wide')}`
    )
    const same = listed
      .trim()
      .split('\n')
      .every((line) => stats.get(line.split(' ')[0]) === Number(line.split(' ')[1]))
    t.ok(same, 'readdir gives every entry the number stat gives')
  })

  await t.test('a component over 255 bytes is ENAMETOOLONG for every operation, not ENOENT', (t) => {
    const long = 'n'.repeat(256)
    fs.mkdirSync(p('names'))
    fs.writeFileSync(p('names/ok'), 'x')
    const tooLong = [
      ['create', () => fs.writeFileSync(p(`names/${long}`), 'x')],
      ['stat', () => fs.statSync(p(`names/${long}`))],
      ['chmod', () => fs.chmodSync(p(`names/${long}`), 0o600)],
      ['chown', () => fs.chownSync(p(`names/${long}`), process.getuid?.() ?? 0, process.getgid?.() ?? 0)],
      ['truncate', () => fs.truncateSync(p(`names/${long}`), 0)],
      ['unlink', () => fs.unlinkSync(p(`names/${long}`))],
      ['rmdir', () => fs.rmdirSync(p(`names/${long}`))],
      ['mkdir', () => fs.mkdirSync(p(`names/${long}`))],
      ['rename from', () => fs.renameSync(p(`names/${long}`), p('names/other'))],
      ['rename to', () => fs.renameSync(p('names/ok'), p(`names/${long}`))],
      ['link from', () => fs.linkSync(p(`names/${long}`), p('names/other'))],
      ['link to', () => fs.linkSync(p('names/ok'), p(`names/${long}`))],
      ['a long folder on the way', () => fs.statSync(p(`${long}/ok`))]
    ] as const
    for (const [op, run] of tooLong) t.exception(run, /ENAMETOOLONG/, op)
    t.ok(fs.existsSync(p('names/ok')), 'the file a refused rename named is still there')
  })

  await t.test('statfs answers with the free, available and inode counts of the disk under the home', (t) => {
    const out = sh(`df -P ${m.dir} | tail -1`)
    t.ok(out.includes('peerstore'), out.trim())
    // f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree of the mount and of the home's disk, read at once.
    const script = (dir: string) =>
      `s=os.statvfs('${dir}');print(s.f_frsize,s.f_blocks,s.f_bfree,s.f_bavail,s.f_files,s.f_ffree)`
    const [mount, disk] = sh(`python3 -c "import os;${script(m.dir)};${script(m.home)}"`)
      .trim()
      .split('\n')
      .map((line) => line.split(' ').map(Number))
    const bytes = (v: number[], i: number) => v[i] * v[0]
    const MiB = 1024 * 1024
    const near = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance
    t.ok(near(bytes(mount, 1), bytes(disk, 1), 4 * MiB), 'total size')
    t.ok(near(bytes(mount, 2), bytes(disk, 2), 256 * MiB), `free ${bytes(mount, 2)} ~ ${bytes(disk, 2)}`)
    t.ok(near(bytes(mount, 3), bytes(disk, 3), 256 * MiB), `available ${bytes(mount, 3)} ~ ${bytes(disk, 3)}`)
    t.ok(near(mount[4], Math.min(disk[4], 0xffffffff), 1), 'inodes')
    t.ok(near(mount[5], Math.min(disk[5], 0xffffffff), 10_000), 'free inodes')
  })
})
