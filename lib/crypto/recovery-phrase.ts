// The recovery phrase: a user's 32-byte identity seed as words a person can
// write down and type back on a new machine (docs/devices.md, "The recovery
// phrase"). The first 24 words are the standard BIP-39 encoding of the seed
// (256 bits and an 8-bit checksum); two more words carry 22 bits of a
// SHA-256 check, because BIP-39's checksum alone lets one random damage in
// 256 through, and a wrong seed silently restores another, empty user.

import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english'
import { codedError, type PeerStoreError } from '../common/errors'
import { namespace, sha256 } from './hash'
import { SEED_BYTES } from './keys'

const NS_PHRASE_CHECK = namespace('recovery-phrase')
const SEED_WORDS = 24
const CHECK_WORDS = 2
const BITS_PER_WORD = 11
export const PHRASE_WORDS = SEED_WORDS + CHECK_WORDS

const indexOfWord = new Map(wordlist.map((w, i) => [w, i]))

function phraseError(message: string): PeerStoreError {
  return codedError('EINVAL', `the recovery phrase ${message}`)
}

/** The two check words' indexes: the first 22 bits of SHA-256(NS ‖ seed). */
function checkWordIndexes(seed: Uint8Array): number[] {
  const h = sha256(NS_PHRASE_CHECK, seed)
  const bits = h.readUIntBE(0, 3) >>> (24 - CHECK_WORDS * BITS_PER_WORD)
  return [bits >>> BITS_PER_WORD, bits & ((1 << BITS_PER_WORD) - 1)]
}

/** The 26 words of `seed`, separated by single spaces. */
export function seedToPhrase(seed: Uint8Array): string {
  if (seed.byteLength !== SEED_BYTES) throw new Error(`a seed is ${SEED_BYTES} bytes`)
  const words = entropyToMnemonic(seed, wordlist).split(' ')
  for (const i of checkWordIndexes(seed)) words.push(wordlist[i])
  return words.join(' ')
}

/**
 * The seed a phrase encodes. Any whitespace between words and any letter
 * case are accepted; a phrase of the wrong length, with a word not in the
 * list, or failing either check is refused, saying which.
 */
export function phraseToSeed(text: string): Buffer {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length !== PHRASE_WORDS) {
    throw phraseError(`has ${words.length} words, not ${PHRASE_WORDS}: type it again, whole`)
  }
  const unknown = words.findIndex((w) => !indexOfWord.has(w))
  if (unknown >= 0) {
    throw phraseError(
      `has a word that is not in the list, word ${unknown + 1} ('${words[unknown]}'): check its spelling`
    )
  }
  let seed: Buffer
  try {
    seed = Buffer.from(mnemonicToEntropy(words.slice(0, SEED_WORDS).join(' '), wordlist))
  } catch {
    throw damagedPhrase()
  }
  const expected = checkWordIndexes(seed)
  const given = words.slice(SEED_WORDS).map((w) => indexOfWord.get(w)!)
  if (expected.some((v, i) => v !== given[i])) throw damagedPhrase()
  return seed
}

function damagedPhrase(): PeerStoreError {
  return phraseError(
    'is damaged (a word changed, or two words swapped): it does not match its own check; compare it with what you wrote down'
  )
}
