/**
 * Why a catalog operation failed. `input` is a malformed file or directory
 * (it names the file); `opm` is a failure opm v1.26.4 itself reports, with
 * opm's own text so callers and logs read the same as IIB's; `usage` is a bad
 * command line. All are the caller's input, never a passing failure: retrying
 * cannot help (the builder reports them as a failed request).
 */
export type CatalogErrorKind = 'input' | 'opm' | 'usage';

export class CatalogError extends Error {
  readonly kind: CatalogErrorKind;
  readonly file: string | undefined;
  constructor(kind: CatalogErrorKind, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'CatalogError';
    this.kind = kind;
    this.file = options?.file;
  }
}

/** A malformed or missing input file; the message starts with the file. */
export function inputError(file: string, problem: string, cause?: unknown): CatalogError {
  return new CatalogError('input', `${file}: ${problem}`, { file, cause });
}

/** An error with the exact text opm v1.26.4 prints. */
export function opmError(message: string): CatalogError {
  return new CatalogError('opm', message);
}

/**
 * Joins several messages the way k8s `utilerrors.NewAggregate` prints them:
 * duplicates dropped, one message bare, several in brackets.
 */
export function aggregateMessages(messages: readonly string[]): string | undefined {
  const seen: string[] = [];
  for (const m of messages) if (!seen.includes(m)) seen.push(m);
  if (seen.length === 0) return undefined;
  if (seen.length === 1) return seen[0];
  return `[${seen.join(', ')}]`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
