// The checked token text every printed token and id uses: each single-character
// change, drop, insertion, swap and cut is refused as damaged; whitespace a
// mail client adds is not damage; older unchecked formats are refused as such.
// (Through the real CLI for each kind of token: test/cli/tokens.test.ts.)

import test from 'brittle'
import {
  type CheckedTokenKind,
  decodeCheckedToken,
  encodeCheckedToken,
  looksLikeToken
} from '../../lib/crypto/checked-token'
import { namespace, randomBytes, sha256 } from '../../lib/crypto'
import { encodeUserId } from '../../lib/volume/sharing/token'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const KIND: CheckedTokenKind = {
  prefix: 'peerstore-test2',
  what: 'test token',
  askAgain: 'ask for a new one',
  uncheckedPrefixes: ['peerstore-test1']
}

function refused(t: { fail(msg: string): void }, text: string, what: string): string {
  try {
    decodeCheckedToken(KIND, text)
  } catch (err) {
    return (err as Error).message
  }
  t.fail(`accepted: ${what}`)
  return ''
}

test('round trip, for payloads of every length modulo 3 (so every padding case of base64)', (t) => {
  for (const size of [1, 2, 3, 31, 32, 33, 100]) {
    const payload = randomBytes(size)
    const token = encodeCheckedToken(KIND, payload)
    t.ok(token.startsWith(KIND.prefix))
    t.ok(/^[A-Za-z0-9_-]+$/.test(token.slice(KIND.prefix.length)), 'base64url, no padding')
    t.alike(decodeCheckedToken(KIND, token), payload, `${size} bytes`)
  }
})

test('every single-character change, drop, insertion, swap and cut is refused as damaged', (t) => {
  for (const size of [32, 33, 34]) {
    const token = encodeCheckedToken(KIND, randomBytes(size))
    const body = token.slice(KIND.prefix.length)
    const head = KIND.prefix
    let tried = 0
    let damaged = 0
    const expectDamaged = (text: string, what: string) => {
      tried++
      if (refused(t, text, what).includes('damaged (mistyped or cut short)')) damaged++
    }
    for (let i = 0; i < body.length; i++) {
      for (const ch of ALPHABET) {
        if (ch !== body[i]) expectDamaged(head + body.slice(0, i) + ch + body.slice(i + 1), `change at ${i} to ${ch}`)
      }
      expectDamaged(head + body.slice(0, i) + body.slice(i + 1), `drop at ${i}`)
      expectDamaged(`${head}${body.slice(0, i)}A${body.slice(i)}`, `insert at ${i}`)
      if (i + 1 < body.length && body[i] !== body[i + 1]) {
        expectDamaged(head + body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2), `swap at ${i}`)
      }
      expectDamaged(head + body.slice(0, i), `cut to ${i}`)
    }
    expectDamaged(`${token}!`, 'a character outside the alphabet')
    expectDamaged(`${token.slice(0, -3)}=${token.slice(-2)}`, 'padding inside')
    t.is(damaged, tried, `${size}-byte payload: all ${tried} damaged copies refused as damaged`)
  }
})

test('whitespace inside or around a token is not damage', (t) => {
  const payload = randomBytes(40)
  const token = encodeCheckedToken(KIND, payload)
  const wrapped = `  ${token.slice(0, 20)}\n${token.slice(20, 45)}\r\n\t${token.slice(45)}\n`
  t.alike(decodeCheckedToken(KIND, wrapped), payload)
  t.ok(looksLikeToken(KIND, `\n${token}`))
})

test('an older unchecked format and other text are refused with what they are', (t) => {
  const old = refused(t, 'peerstore-test1AAAAAAAAAAAAAAAA', 'old format')
  t.ok(old.includes('older format') && old.includes('ask for a new one'), old)
  t.ok(looksLikeToken(KIND, 'peerstore-test1AAAA'), 'an old one is still recognised as this kind')
  const other = refused(t, 'hello', 'not a token')
  t.ok(other.includes("not a PeerStore test token (it starts with 'peerstore-test2')"), other)
  t.absent(looksLikeToken(KIND, 'hello'))
})

test('the check covers the prefix: a token of one kind under the prefix of another is damaged', (t) => {
  const other: CheckedTokenKind = { ...KIND, prefix: 'peerstore-other2', uncheckedPrefixes: [] }
  const token = encodeCheckedToken(other, randomBytes(32))
  const spliced = KIND.prefix + token.slice(other.prefix.length)
  t.ok(refused(t, spliced, 'spliced').includes('damaged'))
})

test('user ids keep the format and check they had before the shared helper', (t) => {
  const pk = randomBytes(32)
  const before = sha256(namespace('share/user-id-check'), pk).subarray(0, 4)
  t.is(encodeUserId(pk), `peerstore-user1${Buffer.concat([pk, before]).toString('base64url')}`)
})
