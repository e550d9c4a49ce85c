/**
 * Kubernetes resource quantities (`500m`, `128Mi`, `1.5G`, `2e3`) as plain numbers of base units, for
 * `resourceFieldRef` values. Doubles are exact enough for the magnitudes pods ask for.
 */
const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(text: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    text.trim(),
  );
  if (!m) throw new RangeError(`not a Kubernetes quantity: "${text}"`);
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIX[m[3] ?? ""] ?? 1);
}

/** `value / divisor`, rounded up, as the kubelet reports resourceFieldRef values (at least 1 for >0). */
export function divideCeil(value: number, divisor: number): string {
  // Tolerate binary-fraction noise (0.1 CPU / 1m must be 100, not 101).
  const q = value / divisor;
  const rounded = Math.round(q);
  return String(Math.abs(q - rounded) < 1e-9 ? rounded : Math.ceil(q));
}
