import type { Request } from 'express';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../../../shared/config';
import type { Authenticator } from '../../auth';
import type { RequestStore } from '../../requests/store';
import type { Sealer } from '../../requests/submit';
import type { ReadyCheck } from '../../../../shared/health';

export type AppConfig = Pick<
  GatewayConfig,
  | 'loginDisabled'
  | 'workerUsernames'
  | 'maxPerPage'
  | 'binaryImageConfig'
  | 'graphModeOptions'
  | 'graphModeIndexAllowList'
  | 'requestDataDaysToLive'
  | 'maxBodyBytes'
> &
  Partial<Pick<GatewayConfig, 'logFollowPollMs'>>;

export interface AppDeps {
  config: AppConfig;
  store: RequestStore;
  /** Seals a request's tokens; without it, requests with tokens are refused. */
  sealer?: Sealer;
  log: Logger;
  /** Empty when login is disabled. */
  authenticators: Authenticator[];
  /** Called after requests were committed, to publish their outbox rows now. */
  onCommitted: () => void;
  /** What /readyz checks (default: PostgreSQL answers `SELECT 1`). */
  readiness?: Record<string, ReadyCheck>;
}

/** Absolute base URL of the API, for links in the JSON. */
export function apiBase(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/api/v1`;
}
