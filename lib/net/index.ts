export * from './capability'
export * from './errors'
export * from './peer-network'
export * from './protocol'
