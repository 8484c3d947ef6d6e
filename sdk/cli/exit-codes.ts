import { DeltahubError } from '../errors/errors.js';

/** Documented in README.md ("Exit codes"); scripts rely on them, so never renumber. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  format: 3,
  baseMismatch: 4,
  integrity: 5,
  notFound: 6,
  conflict: 7,
  auth: 8,
} as const;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof DeltahubError)) return EXIT.failure;
  switch (error.code) {
    case 'INVALID_INPUT':
    case 'LIMIT_EXCEEDED':
      return EXIT.usage;
    case 'SAFETENSORS_FORMAT':
    case 'DELTA_FORMAT':
    case 'UNSUPPORTED_FORMAT_VERSION':
    case 'CHECKPOINT_MISMATCH':
      return EXIT.format;
    case 'BASE_MISMATCH':
      return EXIT.baseMismatch;
    case 'INTEGRITY':
      return EXIT.integrity;
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'VERSION_CONFLICT':
      return EXIT.conflict;
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return EXIT.auth;
    default:
      return EXIT.failure;
  }
}
