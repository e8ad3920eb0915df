// `--allow-other`: another local user works in the mount, what they create is
// theirs (the FUSE caller's uid and gid, scripts/patch-fuse-native.js), and
// the kernel enforces the stored modes and owners (default_permissions).

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'

const NOBODY = (() => {
  try {
    return { uid: Number(sh('id -u nobody').trim()), gid: Number(sh('id -g nobody').trim()) }
  } catch {
    return null
  }
})()
// Mounting for other users needs root here (no user_allow_other in fuse.conf); the test runs as nobody.
const isRoot = process.getuid?.() === 0

/** Runs a shell command as the user nobody; returns its exit status. */
function asNobody(cmd: string): number {
  try {
    sh(`runuser -u nobody -- sh -c '${cmd}' 2>/dev/null`)
    return 0
  } catch (err) {
    return (err as { status?: number }).status ?? 1
  }
}

test('another user creates files, directories and symlinks that are theirs; modes are enforced', {
  skip: !isRoot || !NOBODY,
  timeout: 60_000
}, async (t) => {
  const m = await startMount(t, { args: ['--allow-other'] })
  fs.chmodSync(path.dirname(m.dir), 0o755) // the temp dir above the mountpoint
  fs.chmodSync(m.dir, 0o1777)
  fs.writeFileSync(path.join(m.dir, 'roots'), 'root only\n', { mode: 0o644 })

  const d = m.dir
  t.is(asNobody(`echo hi > ${d}/f && mkdir ${d}/dir && ln -s f ${d}/link && echo more >> ${d}/f`), 0, 'nobody writes')
  const owner = (p: string) => sh(`stat -c %u:%g ${p}`).trim()
  const theirs = `${NOBODY!.uid}:${NOBODY!.gid}`
  t.is(owner(`${d}/f`), theirs, 'a created file belongs to its creator')
  t.is(owner(`${d}/dir`), theirs, 'so does a directory')
  t.is(owner(`${d}/link`), theirs, 'and a symlink')
  t.is(owner(`${d}/roots`), '0:0', "root's file stays root's")
  t.is(fs.readFileSync(`${d}/f`, 'utf8'), 'hi\nmore\n', 'the creator appended to its own file later')
  t.not(asNobody(`echo x >> ${d}/roots`), 0, "nobody cannot write root's 0644 file")
  t.is(asNobody(`chmod 600 ${d}/f && cat ${d}/f > /dev/null`), 0, 'the owner chmods its file and still reads it')

  t.is(await m.stop(), 0)
  const again = await startMount(t, { home: m.home, dir: m.dir, args: ['--allow-other'] })
  t.is(owner(`${d}/f`), theirs, 'owners survive a remount')
  t.is(sh(`stat -c %a ${d}/f`).trim(), '600', 'and so do modes')
  await again.stop()
})
