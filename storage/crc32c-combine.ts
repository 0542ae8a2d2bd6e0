/**
 * CRC32C of a concatenation from the CRCs of its parts, without reading the bytes again
 * (zlib's crc32_combine, by multiplication modulo the Castagnoli polynomial). The commit log
 * uses it to frame a produced RecordBatch whose own CRC (over bytes 21..end) the core has just
 * verified: the entry CRC then costs a pass over the entry header and 21 bytes, not over the
 * whole batch a second time.
 */
const POLY = 0x82f63b78; // reflected Castagnoli polynomial

/** a(x) * b(x) mod p(x), in the reflected bit order of the CRC register. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) mod p(x). */
const X2N = new Uint32Array(32);
X2N[0] = 0x40000000; // x^1
for (let k = 1; k < 32; k++) X2N[k] = multModP(X2N[k - 1]!, X2N[k - 1]!);

/** x^(n * 2^k) mod p(x). */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** CRC32C(A ‖ B) from crcA = CRC32C(A), crcB = CRC32C(B) and B's length in bytes. */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ (crcB >>> 0)) >>> 0;
}
