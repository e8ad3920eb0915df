export * from './aead'
export * from './hash'
export * from './keys'
export * from './record'
