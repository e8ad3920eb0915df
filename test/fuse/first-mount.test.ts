// The first mount of a new home says it made one, and where the user's
// secret is (issue 16); a mount of an existing home says nothing of it.

import path from 'node:path'
import test from 'brittle'
import { startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

test('the first mount of a new home says so and names user.seed; the next does not', { timeout: 90_000 }, async (t) => {
  const home = path.join(tempDir(t, 'first'), 'home')
  const first = await startMount(t, { home })
  // Said on stderr before the mount is up; the pipe may deliver it after stdout's 'mounted'.
  await waitFor('the notice', () => first.output().includes('secret key is'), { timeoutMs: 5000 })
  t.ok(first.output().includes(`created a new PeerStore home at ${home}`), first.output())
  t.ok(first.output().includes(`its secret key is ${path.join(home, 'user.seed')}`), 'names the secret')
  t.is(await first.stop(), 0)
  const second = await startMount(t, { home, dir: first.dir })
  t.absent(second.output().includes('created'), second.output())
  t.is(await second.stop(), 0)
})
