import test from 'brittle'
import { runPeerstore } from '../helpers/cli'

test('peerstore --help lists the commands and exits 0', async (t) => {
  const res = await runPeerstore(['--help'])
  t.is(res.code, 0)
  t.ok(res.stdout.includes('Commands:'))
  t.ok(res.stdout.includes('sim'))
})

test('an unknown command is a usage error with exit code 2', async (t) => {
  const res = await runPeerstore(['frobnicate'])
  t.is(res.code, 2)
  t.ok(res.stderr.includes("unknown command 'frobnicate'"))
})

test('an unknown flag is a usage error with exit code 2', async (t) => {
  const res = await runPeerstore(['sim', '--no-such-flag'])
  t.is(res.code, 2)
  t.ok(res.stderr.includes('unknown flag --no-such-flag'))
})

test('every command has --help', async (t) => {
  const res = await runPeerstore(['sim', '--help'])
  t.is(res.code, 0)
  t.ok(res.stdout.includes('Usage: peerstore sim'))
  t.ok(res.stdout.includes('--home'))
})

test('--version prints the package version', async (t) => {
  const res = await runPeerstore(['--version'])
  t.is(res.code, 0)
  t.ok(/^\d+\.\d+\.\d+\n$/.test(res.stdout))
})
