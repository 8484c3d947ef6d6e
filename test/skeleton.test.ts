import { describe, expect, it } from 'vitest';
import { DeltaFormatError, DeltahubError } from '../sdk/errors/errors.js';

describe('typed errors', () => {
  it('carry a stable code and their class name', () => {
    const e = new DeltaFormatError('bad manifest', { field: 'method' });
    expect(e).toBeInstanceOf(DeltahubError);
    expect(e.code).toBe('DELTA_FORMAT');
    expect(e.name).toBe('DeltaFormatError');
    expect(e.details).toEqual({ field: 'method' });
  });
});
