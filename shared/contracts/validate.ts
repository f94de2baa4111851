import type { z } from 'zod/v4';
import { AppError, ValidationError } from '../errors';

/** What is wrong with a message, every problem with where it is: `params.bundles: expected array, received string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.map(String).join('.');
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * A received message checked against its contract. A malformed one throws a
 * ValidationError, which the consumer rejects to the dead-letter address
 * (retrying cannot help).
 */
export function parseMessage<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new ValidationError(`${what} is malformed: ${describeIssues(result.error)}`);
}

/**
 * A message about to be sent, checked against its contract: one that does
 * not satisfy it is our own bug, never the caller's (an AppError, HTTP 500).
 */
export function outgoingMessage<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new AppError(`${what} does not satisfy its contract: ${describeIssues(result.error)}`);
}
