// A second autodiff engine in float64: forward mode with dual numbers a + b·ε
// (ε² = 0). It shares no code with src/reference/: each op's derivative comes from
// the chain rule applied by the arithmetic itself, not from a hand-derived backward.

export class Dual {
  constructor(
    readonly v: number,
    readonly d = 0,
  ) {}

  add(o: Dual | number): Dual {
    const b = lift(o);
    return new Dual(this.v + b.v, this.d + b.d);
  }

  sub(o: Dual | number): Dual {
    const b = lift(o);
    return new Dual(this.v - b.v, this.d - b.d);
  }

  mul(o: Dual | number): Dual {
    const b = lift(o);
    return new Dual(this.v * b.v, this.d * b.v + this.v * b.d);
  }

  div(o: Dual | number): Dual {
    const b = lift(o);
    return new Dual(this.v / b.v, (this.d * b.v - this.v * b.d) / (b.v * b.v));
  }

  neg(): Dual {
    return new Dual(-this.v, -this.d);
  }
}

const lift = (x: Dual | number): Dual => (typeof x === "number" ? new Dual(x) : x);

export const exp = (x: Dual): Dual => new Dual(Math.exp(x.v), Math.exp(x.v) * x.d);
export const log = (x: Dual): Dual => new Dual(Math.log(x.v), x.d / x.v);
export const sqrt = (x: Dual): Dual => new Dual(Math.sqrt(x.v), x.d / (2 * Math.sqrt(x.v)));
/** |x|, and max(0, x): derivative of the side x is on (samples stay off the kinks). */
export const abs = (x: Dual): Dual => (x.v < 0 ? x.neg() : x);
export const relu = (x: Dual): Dual => (x.v > 0 ? x : new Dual(0));
/** tanh and σ through exp, so their derivatives come from exp's and the quotient rule. */
export const tanh = (x: Dual): Dual => {
  const e2 = exp(x.mul(2));
  return e2.sub(1).div(e2.add(1));
};
export const sigmoid = (x: Dual): Dual => new Dual(1).div(exp(x.neg()).add(1));
export const sum = (xs: Dual[]): Dual => xs.reduce((a, b) => a.add(b), new Dual(0));
