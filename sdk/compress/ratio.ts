import { InvalidInputError } from '../errors/errors.js';

/** Parses `1/16`, `0.0625` or `6.25%` into a ratio in (0, 1]. */
export function parseRatio(text: string): number {
  const s = text.trim();
  let value: number;
  const frac = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(s);
  if (frac) value = Number(frac[1]) / Number(frac[2]);
  else if (s.endsWith('%')) value = Number(s.slice(0, -1)) / 100;
  else value = Number(s);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new InvalidInputError(`invalid ratio "${text}": use a fraction like 1/16 or a number in (0, 1]`);
  }
  return value;
}
