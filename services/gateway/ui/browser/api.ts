/** The API the page reads, relative to the page, so a proxy's path prefix and its credentials apply. */
export const API_BASE = new URL('../api/v1/', document.baseURI);

export interface StateChange {
  state: string;
  state_reason: string;
  updated: string;
}

/** A build request as the API answers it; the type-specific keys vary. */
export interface Build {
  id: number;
  request_type: string;
  state: string;
  state_reason: string;
  user: string | null;
  batch: number;
  arches: string[];
  updated: string;
  state_history?: StateChange[];
  batch_annotations?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface Page {
  items: Build[];
  meta: { page: number; pages: number; per_page: number; total: number };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') message = `${res.status}: ${body.error}`;
  } catch {
    // Not the API's JSON (a proxy's page): the status says enough.
  }
  if (res.status === 401) message += ' (the API needs you to log in)';
  return new ApiError(res.status, message);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(new URL(path, API_BASE), {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/**
 * Reads `GET /builds/<id>/logs?follow=true`: plain text, sent chunk by chunk
 * as the builder reports it, ending once the request is final.
 */
export async function followLog(
  id: number,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(new URL(`builds/${id}/logs?follow=true`, API_BASE), {
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) throw await failure(res);
  if (!res.body) {
    onText(await res.text());
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onText(value);
  }
}

/** The enums of GET /builds' filters, read from the OpenAPI document so the page never lists stale ones. */
export async function listFilterValues(): Promise<{ state: string[]; request_type: string[] }> {
  interface Param {
    name: string;
    schema?: { enum?: string[] };
  }
  const doc = await getJson<{ paths: Record<string, { get?: { parameters?: Param[] } }> }>('openapi.json');
  const params = doc.paths['/builds']?.get?.parameters ?? [];
  const values = (name: string): string[] => params.find((p) => p.name === name)?.schema?.enum ?? [];
  return { state: values('state'), request_type: values('request_type').filter((t) => t !== 'generic') };
}
