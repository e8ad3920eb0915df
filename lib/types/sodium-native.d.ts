// The subset of sodium-native 5 that PeerStore uses. Output buffers come
// first and sizes are asserted exactly by the binding.
declare module 'sodium-native' {
  type B = Buffer | Uint8Array
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export const crypto_sign_SEEDBYTES: number
  export const crypto_sign_BYTES: number
  export const crypto_box_PUBLICKEYBYTES: number
  export const crypto_box_SECRETKEYBYTES: number
  export const crypto_box_SEALBYTES: number
  export const crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number
  export const crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number
  export const crypto_aead_xchacha20poly1305_ietf_ABYTES: number
  export const crypto_generichash_BYTES: number
  export const crypto_generichash_KEYBYTES: number
  export const crypto_kdf_KEYBYTES: number
  export const crypto_kdf_CONTEXTBYTES: number

  export function randombytes_buf(buf: B): void
  export function sodium_memzero(buf: B): void
  export function sodium_memcmp(a: B, b: B): boolean
  export function sodium_malloc(size: number): Buffer

  export function crypto_sign_seed_keypair(pk: B, sk: B, seed: B): void
  export function crypto_sign_keypair(pk: B, sk: B): void
  export function crypto_sign_detached(sig: B, msg: B, sk: B): void
  export function crypto_sign_verify_detached(sig: B, msg: B, pk: B): boolean
  export function crypto_sign_ed25519_pk_to_curve25519(curvePk: B, edPk: B): void
  export function crypto_sign_ed25519_sk_to_curve25519(curveSk: B, edSk: B): void

  export function crypto_box_seal(c: B, m: B, pk: B): void
  export function crypto_box_seal_open(m: B, c: B, pk: B, sk: B): boolean
  export function crypto_scalarmult(q: B, n: B, p: B): void

  export function crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: B,
    m: B,
    ad: B | null,
    nsec: null,
    npub: B,
    k: B
  ): number
  export function crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: B,
    nsec: null,
    c: B,
    ad: B | null,
    npub: B,
    k: B
  ): number

  export function crypto_generichash(out: B, input: B, key?: B): void
  export function crypto_generichash_batch(out: B, inputs: B[], key?: B): void
  export function crypto_kdf_derive_from_key(sub: B, id: number, ctx: B, key: B): void
}
