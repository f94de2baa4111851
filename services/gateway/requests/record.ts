import type { RequestType } from '../../../shared/contracts';

/** A request as stored: common columns plus type-specific params and results. */
export interface RequestRecord {
  id: number;
  type: RequestType;
  user_name: string | null;
  batch_id: number;
  state: string;
  state_reason: string;
  updated: Date;
  params: Record<string, unknown>;
  results: Record<string, unknown>;
  trace_id: string | null;
}

/** One entry of a request's state history. */
export interface StateRecord {
  state: string;
  state_reason: string;
  updated: Date;
}

/** The reason of every request's first state. */
export const INITIAL_REASON = 'The request was initiated';
