// Integer square root, for the cosine loss's norms.

/**
 * floor(√x) for an unsigned 64-bit x, digit by digit (two bits a step, 32 steps at
 * most): exact, no float, no division.
 * see: https://en.wikipedia.org/wiki/Methods_of_computing_square_roots#Binary_numeral_system_(base_2)
 */
export function isqrt_u64(x: u64): u64 {
  let result: u64 = 0;
  let bit: u64 = <u64>1 << 62;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= result + bit) {
      x -= result + bit;
      result = (result >> 1) + bit;
    } else {
      result >>= 1;
    }
    bit >>= 2;
  }
  return result;
}
