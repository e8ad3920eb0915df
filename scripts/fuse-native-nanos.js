// Nanosecond times for fuse-native 2.2.6 (issue 14), as [original, fixed]
// texts for scripts/patch-fuse-native.js. The binding carried every time as
// milliseconds, in C and in index.js, so `touch -d …123456789` read back
// `.123000000` and `cp -a`/`rsync -a` lost precision.
//
// What changes, each side still working with the other side unpatched (a
// process may load the new index.js with the old binary, or the reverse):
// - utimens: the C side passes two more arguments, the nanoseconds past each
//   time's millisecond. index.js hands the handler BigInt nanoseconds since
//   the epoch (null for UTIME_OMIT) when the Fuse was made with the option
//   `nanosecondTimes: true`; without it, milliseconds as before.
// - getattr (and fgetattr, readdir stats): a stat time may also be a BigInt of
//   nanoseconds since the epoch. The stat array grows from 18 to 22 uint32s:
//   three with the nanoseconds past each time's millisecond, then the high 32
//   bits of st_ino (fuse-native kept 32 bits of inode numbers, so two files
//   could share one, and `cp`/`diff` take two files with one number for one);
//   the C side reads each only from an array that long.
// - index.js sets Fuse.NANOSECOND_TIMES = true, so a caller can tell.

// The utimens method: fuse-native's text, then with fixes 1 and 2 of
// patch-fuse-native.js (before nanoseconds), then with nanoseconds.
const UTIMENS_HEAD =
  'FUSE_METHOD_VOID(utimens, 5, 0, (const char *path, const struct timespec tv[2]), {\n  l->path = path;\n'
const UTIMENS_SHIPPED =
  UTIMENS_HEAD +
  '  l->atime = timespec_to_uint64(&tv[0]);\n  l->mtime = timespec_to_uint64(&tv[1]);\n}, {\n' +
  '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
  '  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)\n  FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)\n})'
const UTIMENS_MS_FIX =
  UTIMENS_HEAD +
  '  l->atime = utimens_arg(&tv[0]);\n  l->mtime = utimens_arg(&tv[1]);\n}, {\n' +
  '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
  '  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)\n  FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)\n})'
const UTIMENS_NANOS =
  'FUSE_METHOD_VOID(utimens, 7, 0, (const char *path, const struct timespec tv[2]), {\n  l->path = path;\n' +
  '  struct timespec now;\n  clock_gettime(CLOCK_REALTIME, &now);\n' +
  '  l->atime = utimens_arg(&tv[0], &now, &l->atime_ns);\n  l->mtime = utimens_arg(&tv[1], &now, &l->mtime_ns);\n}, {\n' +
  '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
  '  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)\n  FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)\n' +
  '  napi_create_uint32(env, l->atime_ns, &(argv[7]));\n  napi_create_uint32(env, l->mtime_ns, &(argv[8]));\n})'

const POPULATE_STAT = 'static void populate_stat (uint32_t *ints, struct stat* stat) {'
const UTIMENS_ARG_MS = [
  '// UTIME_OMIT becomes 2^64 - 1 (keep this time), UTIME_NOW the current time.',
  'static uint64_t utimens_arg (const struct timespec* ts) {',
  '  if (ts->tv_nsec == UTIME_OMIT) return UINT64_MAX;',
  '  if (ts->tv_nsec == UTIME_NOW) {',
  '    struct timespec now;',
  '    clock_gettime(CLOCK_REALTIME, &now);',
  '    return timespec_to_uint64(&now);',
  '  }',
  '  return timespec_to_uint64(ts);',
  '}',
  '',
  POPULATE_STAT
].join('\n')
const UTIMENS_ARG_NANOS = [
  '// A utimens time in milliseconds, and in *ns the nanoseconds past that',
  '// millisecond. UTIME_OMIT becomes 2^64 - 1 (keep this time), UTIME_NOW',
  '// `now` (read once per call, so `touch` gives atime and mtime one value).',
  'static uint64_t utimens_arg (const struct timespec* ts, const struct timespec* now, uint32_t* ns) {',
  '  *ns = 0;',
  '  if (ts->tv_nsec == UTIME_OMIT) return UINT64_MAX;',
  '  if (ts->tv_nsec == UTIME_NOW) ts = now;',
  '  *ns = ts->tv_nsec % 1000000;',
  '  return timespec_to_uint64(ts);',
  '}',
  '',
  POPULATE_STAT
].join('\n')

const STAT_ADD_NS = [
  '// A stat array of 21 uint32s (index.js patched for nanoseconds) ends with the',
  '// nanoseconds past the millisecond of atime, mtime and ctime; one of 22 also',
  '// has the high 32 bits of st_ino; one of 18 has milliseconds only. len is in bytes.',
  'static void stat_add_ns (uint32_t *ints, size_t len, struct stat* stat) {',
  '  if (len >= 22 * sizeof(uint32_t)) stat->st_ino |= (uint64_t) ints[21] << 32;',
  '  if (len < 21 * sizeof(uint32_t)) return;',
  '#ifdef __APPLE__',
  '  stat->st_atimespec.tv_nsec += ints[18] % 1000000;',
  '  stat->st_mtimespec.tv_nsec += ints[19] % 1000000;',
  '  stat->st_ctimespec.tv_nsec += ints[20] % 1000000;',
  '#else',
  '  stat->st_atim.tv_nsec += ints[18] % 1000000;',
  '  stat->st_mtim.tv_nsec += ints[19] % 1000000;',
  '  stat->st_ctim.tv_nsec += ints[20] % 1000000;',
  '#endif',
  '}',
  ''
].join('\n')
// The same before inode numbers grew to 64 bits (patched sources of that time move on).
const STAT_ADD_NS_V1 = [
  '// A stat array of 21 uint32s (index.js patched for nanoseconds) ends with the',
  '// nanoseconds past the millisecond of atime, mtime and ctime; one of 18 has',
  '// milliseconds only. len is in bytes.',
  'static void stat_add_ns (uint32_t *ints, size_t len, struct stat* stat) {',
  '  if (len < 21 * sizeof(uint32_t)) return;',
  '#ifdef __APPLE__',
  '  stat->st_atimespec.tv_nsec += ints[18] % 1000000;',
  '  stat->st_mtimespec.tv_nsec += ints[19] % 1000000;',
  '  stat->st_ctimespec.tv_nsec += ints[20] % 1000000;',
  '#else',
  '  stat->st_atim.tv_nsec += ints[18] % 1000000;',
  '  stat->st_mtim.tv_nsec += ints[19] % 1000000;',
  '  stat->st_ctim.tv_nsec += ints[20] % 1000000;',
  '#endif',
  '}',
  ''
].join('\n')
const POPULATE_STATVFS = 'static void populate_statvfs (uint32_t *ints, struct statvfs* statvfs) {'
const GETATTR_SIGNAL = '  NAPI_ARGV_BUFFER_CAST(uint32_t*, ints, 2)\n  populate_stat(ints, l->stat);'
const READDIR_STAT = '      populate_stat(stats_array, &st);'

exports.UTIMENS_METHOD = [[UTIMENS_MS_FIX, UTIMENS_SHIPPED], UTIMENS_NANOS]
exports.UTIMENS_ARG = [[UTIMENS_ARG_MS, POPULATE_STAT], UTIMENS_ARG_NANOS]

exports.C_PATCHES = [
  [
    '  size_t atime;\n  size_t mtime;\n',
    "  size_t atime;\n  size_t mtime;\n  // utimens: nanoseconds past atime's and mtime's millisecond.\n  uint32_t atime_ns;\n  uint32_t mtime_ns;\n"
  ],
  [[STAT_ADD_NS_V1 + POPULATE_STATVFS, POPULATE_STATVFS], STAT_ADD_NS + POPULATE_STATVFS],
  // getattr and fgetattr answer with the same text.
  [GETATTR_SIGNAL, `${GETATTR_SIGNAL}\n  stat_add_ns(ints, ints_len, l->stat);`, { all: true }],
  [READDIR_STAT, `${READDIR_STAT}\n      stat_add_ns(stats_array, stats_array_len, &st);`]
]

const GET_STAT_ARRAY_TIMES = 'function getStatArray (stat) {\n  const ints = new Uint32Array(18)\n'
const GET_STAT_ARRAY_SHIPPED_TIMES =
  '  setDoubleInt(ints, 12, toDateMS(stat && stat.atime))\n' +
  '  setDoubleInt(ints, 14, toDateMS(stat && stat.mtime))\n' +
  '  setDoubleInt(ints, 16, toDateMS(stat && stat.ctime))\n'

const SET_STAT_TIME = [
  '// A stat time: a Date, milliseconds, or a BigInt of nanoseconds since the',
  '// epoch (patch-fuse-native.js); the nanoseconds past the millisecond go to',
  '// ints[nsIdx] (18 to 20), which the patched binding reads.',
  'function setStatTime (ints, idx, nsIdx, t) {',
  "  if (typeof t !== 'bigint') return setDoubleInt(ints, idx, toDateMS(t))",
  '  const ns = t % 1000000n',
  '  setDoubleInt(ints, idx, Number(t / 1000000n))',
  '  ints[nsIdx] = Number(ns)',
  '}',
  '',
  '// ints[21]: the high 32 bits of st_ino (inode numbers of up to 2^53).',
  'function getStatArray (stat) {',
  '  const ints = new Uint32Array(22)',
  '  ints[21] = Math.floor(((stat && stat.ino) || 0) / 4294967296)',
  ''
].join('\n')
const SET_STAT_TIME_V1 = [
  '// A stat time: a Date, milliseconds, or a BigInt of nanoseconds since the',
  '// epoch (patch-fuse-native.js); the nanoseconds past the millisecond go to',
  '// ints[nsIdx] (18 to 20), which the patched binding reads.',
  'function setStatTime (ints, idx, nsIdx, t) {',
  "  if (typeof t !== 'bigint') return setDoubleInt(ints, idx, toDateMS(t))",
  '  const ns = t % 1000000n',
  '  setDoubleInt(ints, idx, Number(t / 1000000n))',
  '  ints[nsIdx] = Number(ns)',
  '}',
  '',
  'function getStatArray (stat) {',
  '  const ints = new Uint32Array(21)',
  ''
].join('\n')

const UTIMENS_JS_SHIPPED =
  '  _op_utimens (signal, path, atimeLow, atimeHigh, mtimeLow, mtimeHigh) {\n' +
  '    const atime = getDoubleArg(atimeLow, atimeHigh)\n' +
  '    const mtime = getDoubleArg(mtimeLow, mtimeHigh)\n'
const UTIMENS_JS_NANOS =
  '  // With opts.nanosecondTimes: BigInt nanoseconds since the epoch, null for\n' +
  '  // UTIME_OMIT (patch-fuse-native.js); else milliseconds, 2^64 - 1 for UTIME_OMIT.\n' +
  '  _op_utimens (signal, path, atimeLow, atimeHigh, mtimeLow, mtimeHigh, atimeNs, mtimeNs) {\n' +
  '    const nanos = this.opts.nanosecondTimes\n' +
  '    const atime = nanos ? getNanosArg(atimeLow, atimeHigh, atimeNs) : getDoubleArg(atimeLow, atimeHigh)\n' +
  '    const mtime = nanos ? getNanosArg(mtimeLow, mtimeHigh, mtimeNs) : getDoubleArg(mtimeLow, mtimeHigh)\n'

const GET_DOUBLE_ARG = 'function getDoubleArg (a, b) {\n  return a + b * 4294967296\n}\n'
const GET_NANOS_ARG = [
  '',
  '// Milliseconds as two uint32s plus the nanoseconds past them (0 from a binding',
  '// built before nanoseconds) as BigInt nanoseconds; null for UTIME_OMIT.',
  'function getNanosArg (low, high, ns) {',
  '  if (low === 0xffffffff && high === 0xffffffff) return null',
  '  return (BigInt(low) + BigInt(high) * 4294967296n) * 1000000n + BigInt(ns || 0)',
  '}',
  ''
].join('\n')

exports.JS_PATCHES = [
  [[SET_STAT_TIME_V1, GET_STAT_ARRAY_TIMES], SET_STAT_TIME],
  [
    GET_STAT_ARRAY_SHIPPED_TIMES,
    '  setStatTime(ints, 12, 18, stat && stat.atime)\n' +
      '  setStatTime(ints, 14, 19, stat && stat.mtime)\n' +
      '  setStatTime(ints, 16, 20, stat && stat.ctime)\n'
  ],
  [UTIMENS_JS_SHIPPED, UTIMENS_JS_NANOS],
  [GET_DOUBLE_ARG, GET_DOUBLE_ARG + GET_NANOS_ARG],
  ['Fuse.isConfigured = isConfigured\n', 'Fuse.isConfigured = isConfigured\nFuse.NANOSECOND_TIMES = true\n']
]
