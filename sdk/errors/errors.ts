/**
 * deltahub's typed errors. Every error a user can cause carries a stable `code` (documented,
 * never renamed) so that the CLI, the SDK and the registry's problem+json mapping agree.
 *
 * HTTP statuses live in one place: `registry/http/problem.ts` maps codes to statuses.
 *
 * @example
 * ```ts
 * try { await readSafetensorsHeader(bytes); }
 * catch (e) { if (e instanceof SafetensorsFormatError) console.error(e.code, e.message); }
 * ```
 */
export class DeltahubError extends Error {
  /** Stable machine-readable code, e.g. `DELTA_FORMAT`. */
  readonly code: string;
  /** Extra structured facts (offending field, expected/actual values). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A safetensors file or shard index is malformed (bad header, offsets, dtype, truncation). */
export class SafetensorsFormatError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super('SAFETENSORS_FORMAT', message, details, options);
  }
}

/** A delta file violates sdk/format/SPEC.md (manifest, tensor shapes, packing). */
export class DeltaFormatError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super('DELTA_FORMAT', message, details, options);
  }
}

/** The delta's format major version is newer than this reader understands. */
export class UnsupportedFormatVersionError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UNSUPPORTED_FORMAT_VERSION', message, details);
  }
}

/** A delta is applied to a base whose digest differs from the one it was made against. */
export class BaseMismatchError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BASE_MISMATCH', message, details);
  }
}

/** Checkpoints that cannot be paired (missing tensors, shape changes on compressed matrices). */
export class CheckpointMismatchError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CHECKPOINT_MISMATCH', message, details);
  }
}

/** Bad user input that is not a file format problem (options, names, ranges). */
export class InvalidInputError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVALID_INPUT', message, details);
  }
}

/** Downloaded or cached bytes do not match their declared sha256/size. */
export class IntegrityError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INTEGRITY', message, details);
  }
}

/** Something already exists and is immutable (a published version). */
export class VersionConflictError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('VERSION_CONFLICT', message, details);
  }
}

/** A named thing does not exist (package, version, tag, blob, upload). */
export class NotFoundError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('NOT_FOUND', message, details);
  }
}

/** The caller is not authenticated. */
export class UnauthorizedError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UNAUTHORIZED', message, details);
  }
}

/** The caller is authenticated but lacks the scope. */
export class ForbiddenError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', message, details);
  }
}

/** A request or file exceeds a configured limit. */
export class LimitExceededError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('LIMIT_EXCEEDED', message, details);
  }
}

/** Too many requests from one client in the rate-limit window. */
export class RateLimitedError extends DeltahubError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('RATE_LIMITED', message, details);
  }
}
