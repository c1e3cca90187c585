/**
 * zxid = epoch << 32 | counter (ZxidUtils). Shared by the election, the
 * store's epoch files and the pipeline's zxid source; epochs are bigint
 * throughout, as Apache keeps them in longs.
 */

/** The epoch half of a zxid (ZxidUtils.getEpochFromZxid). */
export function epochOf(zxid: bigint): bigint {
  return zxid >> 32n;
}

/** The counter half of a zxid (ZxidUtils.getCounterFromZxid). */
export function counterOf(zxid: bigint): bigint {
  return zxid & 0xffffffffn;
}

/** The zxid of `counter` in `epoch` (ZxidUtils.makeZxid). */
export function makeZxid(epoch: bigint, counter: bigint): bigint {
  return (epoch << 32n) | counter;
}
