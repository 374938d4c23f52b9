// Exact decimal arithmetic on strings, for prices: a rate is never a float.
// A decimal is held as an integer of its digits and a scale (digits after
// the point).

interface Scaled {
  units: bigint;
  scale: number;
}

const decimalPattern = /^(-)?(\d+)(?:\.(\d+))?$/;

function parse(value: string): Scaled {
  const m = decimalPattern.exec(value);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(value)}`);
  const fraction = m[3] ?? '';
  const units = BigInt(`${m[2]}${fraction}`);
  return { units: m[1] ? -units : units, scale: fraction.length };
}

function format({ units, scale }: Scaled): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== '0' ? `-${text}` : text;
}

/** The decimal in its shortest form: '2.50' → '2.5', '007' → '7'. */
export function normalizeDecimal(value: string): string {
  return format(parse(value));
}

/** a x b, exactly. */
export function multiplyDecimal(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  return format({ units: x.units * y.units, scale: x.scale + y.scale });
}

/** value x 10^places (places may be negative), exactly. */
export function shiftDecimal(value: string, places: number): string {
  const x = parse(value);
  if (places >= x.scale) return format({ units: x.units * 10n ** BigInt(places - x.scale) + 0n, scale: 0 });
  return format({ units: x.units, scale: x.scale - places });
}

/** value rounded half away from zero to `scale` decimals. */
export function roundDecimal(value: string, scale: number): string {
  const x = parse(value);
  if (x.scale <= scale) return format(x);
  const divisor = 10n ** BigInt(x.scale - scale);
  const negative = x.units < 0n;
  const magnitude = negative ? -x.units : x.units;
  let units = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) units += 1n;
  return format({ units: negative ? -units : units, scale });
}

/**
 * A JavaScript number as the exact decimal its shortest representation
 * spells ('1.2e-7' → '0.00000012'), so that a provider's JSON figure is
 * taken as written rather than as the binary float nearest to it.
 */
export function decimalFromNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  const [mantissa = '0', exponent = '0'] = String(value).toLowerCase().split('e');
  return shiftDecimal(mantissa, Number(exponent));
}
