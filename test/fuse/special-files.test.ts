// Fifos, device nodes and unix sockets in a real mount: mkfifo, mknod and
// bind(2) make them (the kernel sends each as mknod), `stat` shows their
// type, mode and device number, bytes cross a fifo and a socket (the kernel's
// doing: the mount only stores the inode), chmod, rename and unlink work on
// them, they survive a remount and show on a second computer of the user.

import net from 'node:net'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { waitFor } from '../helpers/wait'

const PORT = 49_000 + Math.floor(Math.random() * 1000)
const isRoot = process.getuid?.() === 0

/** `stat -c '%F %a %t %T'`: type, mode, and the device's major and minor (hex). */
const statOf = (p: string) => sh(`stat -c '%F %a %t %T' ${p}`).trim()

/** A unix socket bound at `p` by another process, which exits leaving the file (Node's close would unlink it). */
const bindSocket = (p: string) =>
  sh(`python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' ${p}`)

/** Listens on a unix socket at `p`, connects to it and sends `text` one way; resolves with what arrived. */
async function throughSocket(p: string, text: string): Promise<string> {
  let got = ''
  const server = net.createServer((conn) => {
    conn.on('data', (d) => {
      got += d
    })
  })
  await new Promise<void>((resolve, reject) => server.listen(p, resolve).once('error', reject))
  try {
    const client = net.connect(p)
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
    client.end(text)
    await waitFor('bytes through the socket', () => got === text, { timeoutMs: 10_000, intervalMs: 20 })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  return got
}

test('fifos, device nodes and sockets: made, used, changed, kept across a remount', {
  timeout: 120_000
}, async (t) => {
  const m = await startMount(t, isRoot ? { args: ['--allow-other'] } : {})
  const p = (name: string) => path.join(m.dir, name)

  sh(`mkfifo -m 640 ${p('fifo')}`)
  t.is(statOf(p('fifo')), 'fifo 640 0 0', 'mkfifo makes a fifo with its mode')
  // A writer and a reader in one shell: the kernel's pipe carries the bytes.
  const read = sh(`timeout 20 sh -c 'printf "through the fifo" > ${p('fifo')} & cat ${p('fifo')}; wait'`)
  t.is(read, 'through the fifo', 'bytes written into the fifo come out of it')

  sh(`mknod -m 600 ${p('null')} c 1 3 && mknod -m 660 ${p('loop')} b 7 0`)
  t.is(statOf(p('null')), 'character special file 600 1 3', 'a character device with its number')
  t.is(statOf(p('loop')), 'block special file 660 7 0', 'a block device with its number')
  sh(`mknod ${p('big')} c 259 70000`)
  t.is(sh(`stat -c '%t:%T' ${p('big')}`).trim(), `${(259).toString(16)}:${(70000).toString(16)}`, 'a large minor')

  bindSocket(p('sock'))
  t.is(statOf(p('sock')).split(' ')[0], 'socket', 'bind(2) makes a socket')
  t.is(
    await throughSocket(p('live.sock'), 'over the socket'),
    'over the socket',
    'a socket in the mount carries a connection'
  )
  t.absent(sh(`ls -A ${m.dir}`).split('\n').includes('live.sock'), 'closing the server unlinked its socket')

  const listing = sh(`ls -l ${m.dir}`)
  t.ok(
    /^p.* fifo$/m.test(listing) && /^c.* 1, +3 .* null$/m.test(listing),
    'ls -l shows the type letters and device numbers'
  )
  t.ok(/^b.* 7, +0 .* loop$/m.test(listing) && /^s.* sock$/m.test(listing), 'block device and socket too')

  sh(`chmod 604 ${p('fifo')} ${p('null')} ${p('loop')} ${p('sock')}`)
  sh(`chown 12:34 ${p('null')}`)
  sh(`touch -d '2001-02-03 04:05:06' ${p('loop')}`)
  sh(
    `mkdir ${p('dir')} && mv ${p('fifo')} ${p('dir/fifo2')} && mv ${p('null')} ${p('null2')} && mv ${p('sock')} ${p('dir/sock2')}`
  )
  const before = sh(`cd ${m.dir} && stat -c '%n %F %a %t %T %u:%g %Y' dir/fifo2 null2 loop big dir/sock2`)
  t.ok(before.includes('dir/fifo2 fifo 604 0 0'), 'chmod and rename of a fifo')
  t.ok(before.includes('null2 character special file 604 1 3 12:34'), 'chmod, chown and rename of a device')
  t.ok(before.includes(`loop block special file 604 7 0 0:0 ${Date.parse('2001-02-03T04:05:06') / 1000}`), 'utimens')
  t.ok(before.includes('dir/sock2 socket 604 0 0'), 'chmod and rename of a socket')

  if (isRoot) {
    // Another user's mkfifo (the caller passed by the fuse-native patch): theirs, not the mount's user's.
    sh(`chmod 1777 ${m.dir} && chmod 755 ${path.dirname(m.dir)}`)
    sh(`runuser -u nobody -- mkfifo ${p('theirs')}`)
    t.is(sh(`stat -c %U ${p('theirs')}`).trim(), 'nobody', 'a fifo belongs to the user who made it')
    sh(`rm ${p('theirs')}`)
  }

  t.is(await m.stop(), 0, 'unmounts')
  const again = await startMount(t, { home: m.home, dir: m.dir })
  const after = sh(`cd ${m.dir} && stat -c '%n %F %a %t %T %u:%g %Y' dir/fifo2 null2 loop big dir/sock2`)
  t.is(after, before, 'types, modes, numbers, owners and times survive a remount')
  t.is(sh(`timeout 20 sh -c 'echo again > ${p('dir/fifo2')} & cat ${p('dir/fifo2')}; wait'`), 'again\n', 'fifo works')

  sh(`rm ${p('dir/fifo2')} ${p('null2')} ${p('loop')} ${p('big')} ${p('dir/sock2')} && rmdir ${p('dir')}`)
  t.is(sh(`ls -A ${m.dir}`), '', 'unlink removes each')
  t.is(await again.stop(), 0)
  const third = await startMount(t, { home: m.home, dir: m.dir })
  t.is(sh(`ls -A ${m.dir}`), '', 'and they stay removed')
  await third.stop()
})

test('special files show on a second computer of the user', { timeout: 300_000 }, async (t) => {
  const { a, b } = await startTwoDevices(t, { port: PORT, prefix: 'special' })
  const A = (name: string) => path.join(a.dir, name)
  const B = (name: string) => path.join(b.dir, name)
  const show = `stat -c '%n %F %a %t %T'`
  // A failed wait is reported with t.fail, not thrown: brittle then unmounts both.
  try {
    sh(`cd ${a.dir} && mkfifo -m 620 fifo && mknod -m 640 zero c 1 5 && mknod -m 600 sda b 8 0`)
    bindSocket(A('sock'))
    const want = sh(`cd ${a.dir} && ${show} fifo zero sda sock`)
    t.ok(want.includes('zero character special file 640 1 5'), want)
    sh(`sync ${a.dir}`)
    const seen = (): string => sh(`cd ${b.dir} && ${show} fifo zero sda sock`)
    await waitFor('B lists what A made', () => seen() === want, {
      timeoutMs: 30_000,
      intervalMs: 100,
      retryErrors: true
    })
    t.pass(`B sees A's special files:\n${want}`)
    t.is(
      sh(`timeout 20 sh -c 'printf on-b > ${B('fifo')} & cat ${B('fifo')}; wait'`),
      'on-b',
      'a fifo on B passes bytes'
    )

    sh(`chmod 606 ${A('fifo')} && mv ${A('zero')} ${A('zero2')} && rm ${A('sda')}`)
    sh(`sync ${a.dir}`)
    await waitFor(
      'B sees the chmod, rename and unlink',
      () =>
        sh(`ls -A ${b.dir}`).split('\n').sort().join(',') === ',fifo,sock,zero2' &&
        statOf(B('fifo')) === 'fifo 606 0 0' &&
        statOf(B('zero2')) === 'character special file 640 1 5',
      { timeoutMs: 30_000, intervalMs: 100, retryErrors: true }
    )
    t.pass('changes made in A show in B')
  } catch (err) {
    t.fail(`${(err as Error).message}\n--- A:\n${a.output()}\n--- B:\n${b.output()}`)
    return
  }
  t.is(await b.stop(), 0)
  t.is(await a.stop(), 0)
})
