#!/usr/bin/env node
import { sizeThreadpoolForMount } from '../lib/fuse/threadpool'

const argv = process.argv.slice(2)
// Before lib/cli is loaded: loading it starts libuv's thread pool, whose size is then fixed.
if (argv[0] === 'mount') sizeThreadpoolForMount()

import('../lib/cli')
  .then(({ runCli }) => runCli(argv))
  .then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.stderr.write(`peerstore: ${err?.stack ?? err}\n`)
      process.exitCode = 1
    }
  )
