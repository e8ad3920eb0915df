// What `init` and `recovery` share about the recovery phrase: the block that
// shows it, and reading it back from stdin (docs/devices.md).

import { PHRASE_WORDS } from '../crypto/recovery-phrase'

/** The phrase in a block a person cannot miss, with what it is and what to do with it. */
export function phraseBlock(phrase: string): string {
  const words = phrase.split(' ')
  const lines: string[] = []
  for (let i = 0; i < words.length; i += 6) {
    lines.push(
      words
        .slice(i, i + 6)
        .map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(9)}`)
        .join(' ')
        .trimEnd()
    )
  }
  return [
    '',
    `== recovery phrase: write these ${words.length} words down, on paper, in order ==`,
    ...lines,
    'They restore your identity and all your files on a new computer',
    "('peerstore init --recover'). Whoever has them has your files: keep them private.",
    "'peerstore init' shows them only once; 'peerstore recovery --yes-show-secret' shows them again.",
    ''
  ].join('\n')
}

/**
 * Reads a phrase from `input`: until it has the phrase's number of words and
 * a line ends, or until the input ends, so both a pipe and a person typing
 * at a terminal work.
 */
export function readPhrase(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const done = () => {
      input.off('data', onData)
      input.off('end', done)
      input.off('error', reject)
      input.pause()
      resolve(text)
    }
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      const words = text.trim().split(/\s+/).filter(Boolean).length
      if (words >= PHRASE_WORDS && /\n\s*$/.test(text)) done()
    }
    input.on('data', onData)
    input.on('end', done)
    input.on('error', reject)
    input.resume()
  })
}
