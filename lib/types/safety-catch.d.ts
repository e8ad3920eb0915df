// safety-catch 1.x: swallow an expected rejection, rethrow programmer errors
// (TypeError, RangeError, assertion failures, ...).
declare module 'safety-catch' {
  export default function safetyCatch(err: unknown): void
}
