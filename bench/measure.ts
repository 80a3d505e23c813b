// Samples per second of a benchmark case. A case is measured in every round (the
// engines take turns, so a slow spell of a shared machine lands on all of them);
// each round warms up, then times a few short windows. A case's rate is the median
// of all its windows: a garbage collection or a tier-up that lands in one window
// does not move it.

/** Runs some samples (one call into an engine) and returns how many it ran. */
export type Runner = () => number;

export interface Budget {
  /** Passes over every case. */
  rounds: number;
  /** Seconds run untimed before each round's windows (V8 tiers up hot wasm and JS functions meanwhile). */
  warmupSeconds: number;
  /** Timed windows per case per round. */
  windows: number;
  windowSeconds: number;
}

/** 5 rounds × (0.3 s + 4 × 0.2 s): 20 windows, about 5.5 s per case. */
export const FULL_BUDGET: Budget = { rounds: 5, warmupSeconds: 0.3, windows: 4, windowSeconds: 0.2 };
/** 2 rounds × (0.1 s + 2 × 0.1 s): 4 windows, about 0.6 s per case. */
export const QUICK_BUDGET: Budget = { rounds: 2, warmupSeconds: 0.1, windows: 2, windowSeconds: 0.1 };

/** Calls `run` until `seconds` have passed, at least once; samples per second. */
function rateOver(run: Runner, seconds: number): number {
  const start = performance.now();
  let samples = 0;
  let elapsed = 0;
  do {
    samples += run();
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return samples / elapsed;
}

/** One round of a case: warm-up, then each window's samples per second. */
export function measureWindows(run: Runner, budget: Budget): number[] {
  rateOver(run, budget.warmupSeconds);
  return Array.from({ length: budget.windows }, () => rateOver(run, budget.windowSeconds));
}

export function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
