/**
 * The error hierarchy shared by every service. Each boundary maps these once:
 * HTTP turns them into `{"error": ...}` with IIB's status codes, AMQP into
 * accept / release / reject.
 */
export class AppError extends Error {
  readonly status: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: HTTP 400, AMQP reject (retrying cannot help). */
export class ValidationError extends AppError {
  override readonly status: number = 400;
}

/** The caller may not do this: HTTP 401. */
export class UnauthorizedError extends AppError {
  override readonly status: number = 401;
}

/** The caller is known but not allowed: HTTP 403. */
export class ForbiddenError extends AppError {
  override readonly status: number = 403;
}

/** IIB answers every 404 with the same text. */
export class NotFoundError extends AppError {
  override readonly status: number = 404;
  constructor(message = 'The requested resource was not found') {
    super(message);
  }
}

/** The resource exists but expired (logs, related bundles): HTTP 410. */
export class GoneError extends AppError {
  override readonly status: number = 410;
}

/** A state change that is not allowed (e.g. leaving a final state). */
export class ConflictError extends AppError {
  override readonly status: number = 400;
}

/**
 * A dependency (database, broker, registry, tool) failed. `retryable` says
 * whether the same work may succeed later; HTTP answers 503 for those.
 */
export class DependencyError extends AppError {
  readonly retryable: boolean;
  override readonly status: number;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.status = options.retryable ? 503 : 500;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
