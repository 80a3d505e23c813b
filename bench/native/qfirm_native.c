/*
 * The benchmark's native baseline: qfirm's fixed-point algorithm as plain C, for the
 * system compiler at -O3 -march=native. Per-sample SGD (train_samples) over the rows
 * of a model file that bench/native.ts writes; the same arithmetic as assembly/ (q.ts,
 * dense.ts, lut.ts, sigmoid.ts, tanh.ts, exp.ts, softmax.ts, loss_l2.ts,
 * loss_cross_entropy.ts) written the plain way: i64 sums in an array, every product
 * rounded and clamped where it is made. bench/native.ts checks that its params end
 * bit-identical to the module's.
 *
 *   qfirm_native rates FILE WARMUP_S WINDOWS WINDOW_S   one samples-per-second line per window
 *   qfirm_native check FILE PASSES OUT                  PASSES × train_samples(all rows), params to OUT
 *
 * F and G (the value and gradient fraction bits) are compile-time constants, as they
 * are in a generated module: -DQF=24 -DQG=28.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef QF
#error "compile with -DQF=<fraction bits> -DQG=<gradient fraction bits>"
#endif

typedef int32_t i32;
typedef int64_t i64;
typedef uint64_t u64;

enum { SIGMOID = 0, TANH = 1, RELU = 2, LINEAR = 3, SOFTMAX = 4 };
enum { L2 = 0, CROSS_ENTROPY = 1 };
#define MAX_LAYERS 8

/* ---- q.ts ---- */

static inline i32 sat_i32(i64 x) { return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : (i32)x; }

static inline i64 round_shift_i64(i64 x, int shift) {
  return (x + ((i64)1 << (shift - 1)) - (i64)((u64)x >> 63)) >> shift;
}

static inline i32 q_rescale_sat(i64 x, int from, int to) {
  if (from > to) return sat_i32(round_shift_i64(x, from - to));
  if (from == to) return sat_i32(x);
  int shift = to - from;
  if (x > ((i64)INT32_MAX >> shift)) return INT32_MAX;
  if (x < ((i64)INT32_MIN >> shift)) return INT32_MIN;
  return (i32)(x << shift);
}

static inline i32 q_mul_round_sat(i32 a, int fa, i32 b, int fb, int fr) { return q_rescale_sat((i64)a * b, fa + fb, fr); }
static inline i32 q_sub_sat(i32 a, i32 b) { return sat_i32((i64)a - b); }

static inline i64 div_round_i64(i64 a, i64 b) {
  i64 half = b >> 1;
  return a >= 0 ? (a + half) / b : -((-a + half) / b);
}

/* ---- lut.ts, sigmoid.ts, tanh.ts ---- */

typedef struct { i64 limit, posMul, hThird; int posShift; } lut_indexing;

static i32 *table;
static int entries;

static inline i64 lerp_q30(i64 a, i64 b, i64 t) { return a + ((t * (b - a)) >> 30); }
static inline i64 clamp64(i64 x, i64 lo, i64 hi) { return x < lo ? lo : x > hi ? hi : x; }

static i64 lut_tanh_q30(i64 ax, const lut_indexing *ix) {
  const i64 one = (i64)1 << 30;
  int last = entries - 1;
  if (ax >= ix->limit) return table[last];
  i64 pos = (ax * ix->posMul) >> ix->posShift;
  int i = (int)(pos >> 30);
  if (i >= last) return table[last];
  i64 t = pos & (one - 1);
  i64 p0 = table[i], p3 = table[i + 1];
  i64 slope0 = one - round_shift_i64(p0 * p0, 30);
  i64 slope3 = one - round_shift_i64(p3 * p3, 30);
  i64 p1 = clamp64(p0 + round_shift_i64(ix->hThird * slope0, 30), p0, p3);
  i64 p2 = clamp64(p3 - round_shift_i64(ix->hThird * slope3, 30), p1, p3);
  i64 q0 = lerp_q30(p0, p1, t), q1 = lerp_q30(p1, p2, t), q2 = lerp_q30(p2, p3, t);
  return lerp_q30(lerp_q30(q0, q1, t), lerp_q30(q1, q2, t), t);
}

static i32 sigmoid_q(i32 x, const lut_indexing *ix) {
  i64 ax = x < 0 ? -(i64)x : x;
  i64 th = lut_tanh_q30(ax, ix);
  i64 half = (i64)1 << 30;
  return q_rescale_sat(x < 0 ? half - th : half + th, 31, QF);
}

static i32 tanh_q(i32 x, const lut_indexing *ix) {
  i64 ax = x < 0 ? -(i64)x : x;
  i64 y = lut_tanh_q30(ax, ix);
  return q_rescale_sat(x < 0 ? -y : y, 30, QF);
}

/* ---- exp.ts, softmax.ts ---- */

static i32 exp_table[16];

static inline i64 mul_q30(i64 a, i64 b) { return round_shift_i64(a * b, 30); }

static i64 exp_neg_q30(i64 d) {
  const i64 one = (i64)1 << 30;
  i64 t = -d * (i64)1549082005;
  i64 k = t >> (QF + 30);
  if (k >= 31) return 0;
  i64 r = (t >> QF) & (one - 1);
  i64 x = mul_q30(r & (((i64)1 << 26) - 1), 744261118);
  i64 p = one - mul_q30(x, one - mul_q30(x, ((i64)1 << 29) - mul_q30(x, 178956971 - mul_q30(x, 44739243))));
  i64 y = mul_q30(exp_table[r >> 26], p);
  return k == 0 ? y : round_shift_i64(y, (int)k);
}

static i64 ln_q30(i64 s) {
  const i64 one = (i64)1 << 30;
  int k = (63 - __builtin_clzll((u64)s)) - 30;
  i64 m = s >> k;
  i64 u = ((m - one) << 30) / (m + one);
  i64 u2 = mul_q30(u, u);
  i64 series = one / 13;
  series = one / 11 + mul_q30(u2, series);
  series = one / 9 + mul_q30(u2, series);
  series = one / 7 + mul_q30(u2, series);
  series = one / 5 + mul_q30(u2, series);
  series = one / 3 + mul_q30(u2, series);
  series = one + mul_q30(u2, series);
  return (i64)k * 744261118 + 2 * mul_q30(u, series);
}

static i32 max_q(const i32 *z, int n) {
  i32 largest = z[0];
  for (int j = 1; j < n; j++) if (z[j] > largest) largest = z[j];
  return largest;
}

static void softmax_forward(const i32 *z, i32 *a, int n) {
  i64 max = max_q(z, n), sum = 0;
  for (int j = 0; j < n; j++) {
    i64 e = exp_neg_q30((i64)z[j] - max);
    a[j] = (i32)e;
    sum += e;
  }
  if (sum == 0) sum = 1;
  for (int j = 0; j < n; j++) a[j] = (i32)div_round_i64((i64)a[j] << QF, sum);
}

/* ---- losses ---- */

static i32 loss_l2(const i32 *yHat, const i32 *y, int n, int accShift) {
  i64 acc = 0;
  for (int j = 0; j < n; j++) {
    i64 d = sat_i32((i64)yHat[j] - y[j]);
    acc += (d * d) >> accShift;
  }
  return q_rescale_sat(acc, 2 * QF - accShift + 1, QF);
}

static i32 loss_cross_entropy(const i32 *z, const i32 *y, int n, int accShift) {
  i64 max = max_q(z, n), sum = 0;
  for (int j = 0; j < n; j++) sum += exp_neg_q30((i64)z[j] - max);
  if (sum < ((i64)1 << 30)) sum = (i64)1 << 30;
  i32 lnSum = q_rescale_sat(ln_q30(sum), 30, QF);
  i64 acc = 0;
  for (int j = 0; j < n; j++) acc += ((i64)y[j] * sat_i32((i64)lnSum - ((i64)z[j] - max))) >> accShift;
  return q_rescale_sat(acc, 2 * QF - accShift, QF);
}

/* ---- dense.ts ---- */

static void dense_forward(const i32 *x, const i32 *w, const i32 *b, i32 *z, i64 *acc, int fanIn, int units, int accShift) {
  int accFrac = 2 * QF - accShift;
  for (int j = 0; j < units; j++) acc[j] = accFrac >= QF ? (i64)b[j] << (accFrac - QF) : (i64)b[j] >> (QF - accFrac);
  for (int i = 0; i < fanIn; i++) {
    i64 xi = x[i];
    if (xi == 0) continue;
    const i32 *row = w + (size_t)i * units;
    for (int j = 0; j < units; j++) acc[j] += (xi * row[j]) >> accShift;
  }
  for (int j = 0; j < units; j++) z[j] = q_rescale_sat(acc[j], accFrac, QF);
}

static void dense_backward_input(const i32 *w, const i32 *dZ, i32 *dX, int fanIn, int units, int accShift) {
  int accFrac = QF + QG - accShift;
  for (int i = 0; i < fanIn; i++) {
    const i32 *row = w + (size_t)i * units;
    i64 sum = 0;
    for (int j = 0; j < units; j++) sum += ((i64)row[j] * dZ[j]) >> accShift;
    dX[i] = q_rescale_sat(sum, accFrac, QG);
  }
}

static void dense_backward_step(const i32 *x, const i32 *dZ, i32 *w, i32 *b, i32 *gw, i32 *gb, int fanIn, int units, i32 lr, int keepGrads) {
  for (int j = 0; j < units; j++) {
    if (keepGrads) gb[j] = dZ[j];
    b[j] = q_sub_sat(b[j], q_mul_round_sat(lr, QF, dZ[j], QG, QF));
  }
  for (int i = 0; i < fanIn; i++) {
    i32 xi = x[i];
    i32 *gRow = gw + (size_t)i * units, *wRow = w + (size_t)i * units;
    if (xi == 0) {
      if (keepGrads) memset(gRow, 0, sizeof(i32) * units);
      continue;
    }
    for (int j = 0; j < units; j++) {
      i32 g = q_mul_round_sat(xi, QF, dZ[j], QG, QG);
      if (keepGrads) gRow[j] = g;
      wRow[j] = q_sub_sat(wRow[j], q_mul_round_sat(lr, QF, g, QG, QF));
    }
  }
}

/* ---- the model ---- */

static int inputs, layerCount, units[MAX_LAYERS], activation[MAX_LAYERS], forwardShift[MAX_LAYERS], backShift[MAX_LAYERS];
static int loss, lossShift, paramCount, rows;
static i32 lr, *params, *grads, *data;
static i32 *z[MAX_LAYERS], *a[MAX_LAYERS], *dA[MAX_LAYERS], *dZ[MAX_LAYERS];
static i64 *acc;
static lut_indexing sigmoidIx, tanhIx;
static size_t weightAt[MAX_LAYERS], biasAt[MAX_LAYERS];

static void forward_from(const i32 *input) {
  for (int l = 0; l < layerCount; l++) {
    const i32 *x = l == 0 ? input : a[l - 1];
    int fanIn = l == 0 ? inputs : units[l - 1];
    dense_forward(x, params + weightAt[l], params + biasAt[l], z[l], acc, fanIn, units[l], forwardShift[l]);
    for (int j = 0; j < units[l]; j++) {
      i32 v = z[l][j];
      switch (activation[l]) {
        case SIGMOID: a[l][j] = sigmoid_q(v, &sigmoidIx); break;
        case TANH: a[l][j] = tanh_q(v, &tanhIx); break;
        case RELU: a[l][j] = v > 0 ? v : 0; break;
        default: a[l][j] = v;
      }
    }
    if (activation[l] == SOFTMAX) softmax_forward(z[l], a[l], units[l]);
  }
}

static i32 loss_of(const i32 *target) {
  int last = layerCount - 1;
  return loss == L2 ? loss_l2(a[last], target, units[last], lossShift) : loss_cross_entropy(z[last], target, units[last], lossShift);
}

static void backward_step_from(const i32 *input, const i32 *target, int keepGrads) {
  int last = layerCount - 1, n = units[last];
  if (loss == L2) {
    for (int j = 0; j < n; j++) dA[last][j] = q_rescale_sat((i64)a[last][j] - target[j], QF, QG);
  } else {
    i64 sumY = 0;
    for (int j = 0; j < n; j++) sumY += target[j];
    i64 sumYq = sat_i32(sumY);
    for (int j = 0; j < n; j++) dZ[last][j] = q_rescale_sat((i64)a[last][j] * sumYq - ((i64)target[j] << QF), 2 * QF, QG);
  }
  for (int l = last; l >= 0; l--) {
    const i64 one = (i64)1 << QF;
    for (int j = 0; j < units[l]; j++) {
      i64 y = a[l][j];
      switch (activation[l]) {
        case SIGMOID: dZ[l][j] = q_mul_round_sat(dA[l][j], QG, q_rescale_sat(y * (one - y), 2 * QF, QF), QF, QG); break;
        case TANH: dZ[l][j] = q_mul_round_sat(dA[l][j], QG, sat_i32(one - q_rescale_sat(y * y, 2 * QF, QF)), QF, QG); break;
        case RELU: dZ[l][j] = y > 0 ? dA[l][j] : 0; break;
        case LINEAR: dZ[l][j] = dA[l][j]; break;
        default: break; /* softmax: the loss wrote dZ */
      }
    }
    int fanIn = l == 0 ? inputs : units[l - 1];
    if (l > 0) dense_backward_input(params + weightAt[l], dZ[l], dA[l - 1], fanIn, units[l], backShift[l]);
    dense_backward_step(l == 0 ? input : a[l - 1], dZ[l], params + weightAt[l], params + biasAt[l], grads + weightAt[l],
                        grads + biasAt[l], fanIn, units[l], lr, keepGrads);
  }
}

static i32 train_samples(int n) {
  int outputs = units[layerCount - 1];
  i64 sum = 0;
  for (int k = 0; k < n; k++) {
    const i32 *input = data + (size_t)k * (inputs + outputs);
    forward_from(input);
    sum += loss_of(input + inputs);
    backward_step_from(input, input + inputs, k == n - 1);
  }
  return n == 0 ? 0 : (i32)div_round_i64(sum, n);
}

/* ---- the model file (bench/native.ts) ---- */

static i32 *words;
static size_t wordCount, cursor;

static i32 next_word(void) {
  if (cursor >= wordCount) { fprintf(stderr, "qfirm_native: the model file ends early\n"); exit(2); }
  return words[cursor++];
}

static i64 next_i64(void) {
  u64 lo = (uint32_t)next_word();
  u64 hi = (uint32_t)next_word();
  return (i64)(lo | (hi << 32));
}

static i32 *take(size_t n) {
  if (cursor + n > wordCount) { fprintf(stderr, "qfirm_native: the model file ends early\n"); exit(2); }
  i32 *at = words + cursor;
  cursor += n;
  return at;
}

static void read_indexing(lut_indexing *ix) {
  ix->limit = next_i64();
  ix->posMul = next_i64();
  ix->posShift = next_word();
  ix->hThird = next_i64();
}

static void load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  words = malloc((size_t)bytes);
  if (fread(words, 1, (size_t)bytes, f) != (size_t)bytes) { perror(path); exit(2); }
  fclose(f);
  wordCount = (size_t)bytes / 4;
  if (next_word() != 1 || next_word() != QF || next_word() != QG) { fprintf(stderr, "qfirm_native: model file of another version or format\n"); exit(2); }
  lr = next_word();
  inputs = next_word();
  layerCount = next_word();
  if (layerCount < 1 || layerCount > MAX_LAYERS) { fprintf(stderr, "qfirm_native: %d layers\n", layerCount); exit(2); }
  int widest = 0;
  size_t at = 0;
  for (int l = 0; l < layerCount; l++) {
    units[l] = next_word();
    activation[l] = next_word();
    forwardShift[l] = next_word();
    backShift[l] = next_word();
    int fanIn = l == 0 ? inputs : units[l - 1];
    weightAt[l] = at;
    at += (size_t)fanIn * units[l];
    biasAt[l] = at;
    at += units[l];
    if (units[l] > widest) widest = units[l];
    z[l] = calloc(units[l], 4); a[l] = calloc(units[l], 4); dA[l] = calloc(units[l], 4); dZ[l] = calloc(units[l], 4);
  }
  loss = next_word();
  lossShift = next_word();
  entries = next_word();
  read_indexing(&sigmoidIx);
  read_indexing(&tanhIx);
  table = take(entries > 0 ? entries : 0);
  memcpy(exp_table, take(16), sizeof exp_table);
  paramCount = next_word();
  if ((size_t)paramCount != at) { fprintf(stderr, "qfirm_native: %d params for shapes that need %zu\n", paramCount, at); exit(2); }
  params = take(paramCount);
  grads = calloc(paramCount, 4);
  acc = calloc(widest, sizeof(i64));
  rows = next_word();
  data = take((size_t)rows * (inputs + units[layerCount - 1]));
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile i32 sink;

/** Samples per second of train_samples(all rows), called until `seconds` have passed. */
static double rate_over(double seconds) {
  double start = now(), elapsed;
  long samples = 0;
  do {
    sink = train_samples(rows);
    samples += rows;
    elapsed = now() - start;
  } while (elapsed < seconds);
  return samples / elapsed;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "rates") == 0) {
    load(argv[2]);
    rate_over(atof(argv[3]));
    int windows = atoi(argv[4]);
    for (int w = 0; w < windows; w++) printf("%.1f\n", rate_over(atof(argv[5])));
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "check") == 0) {
    load(argv[2]);
    int passes = atoi(argv[3]);
    i32 last = 0;
    for (int p = 0; p < passes; p++) last = train_samples(rows);
    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(params, 4, paramCount, out) != (size_t)paramCount) { perror(argv[4]); return 2; }
    fclose(out);
    printf("%d\n", last);
    return 0;
  }
  fprintf(stderr, "usage: qfirm_native rates FILE WARMUP_S WINDOWS WINDOW_S | check FILE PASSES OUT\n");
  return 2;
}
