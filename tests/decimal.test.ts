// Exact decimal arithmetic on strings (src/pricing/decimal.ts): rates and
// reported costs never pass through a float.
import { describe, expect, it } from 'vitest';
import { decimalFromNumber, multiplyDecimal, normalizeDecimal, roundDecimal, shiftDecimal } from '../src/pricing/decimal.js';

describe('exact decimals', () => {
  it('spells a JSON number as the decimal it was written as, exponents included', () => {
    expect(decimalFromNumber(1.2e-7)).toBe('0.00000012');
    expect(decimalFromNumber(0.000315)).toBe('0.000315');
    expect(decimalFromNumber(3e-6)).toBe('0.000003');
    expect(decimalFromNumber(1.5e21)).toBe('1500000000000000000000');
    expect(decimalFromNumber(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(() => decimalFromNumber(Number.NaN)).toThrow(RangeError);
    expect(() => decimalFromNumber(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('shifts, multiplies, rounds half away from zero and normalises exactly', () => {
    expect(shiftDecimal('0.000003', 6)).toBe('3');
    expect(shiftDecimal('1.25', -3)).toBe('0.00125');
    expect(multiplyDecimal('3', '1.25')).toBe('3.75');
    expect(multiplyDecimal('0.1375', '0.5')).toBe('0.06875');
    expect(multiplyDecimal('-2.5', '0.5')).toBe('-1.25');
    expect(roundDecimal('0.00000000005', 10)).toBe('0.0000000001');
    expect(roundDecimal('0.00000000004999', 10)).toBe('0');
    expect(roundDecimal('-1.005', 2)).toBe('-1.01');
    expect(normalizeDecimal('002.500')).toBe('2.5');
    expect(normalizeDecimal('-0.000')).toBe('0');
    expect(() => normalizeDecimal('1e3')).toThrow(RangeError);
  });
});
