import { randomUUID } from 'node:crypto';
import type { RequestState, StateUpdate } from '../../../shared/contracts';
import type { AmqpSender } from '../../../shared/messaging';

/**
 * Reports a request's progress on `iib.state-updates`. Log lines are
 * batched and ride along with the next update (or a periodic flush); each
 * update has a unique key, so the recorder applies it once even if resent.
 */
export class Reporter {
  private pendingLogs: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sender: AmqpSender,
    readonly requestId: number,
    private readonly builder: string,
  ) {}

  log(line: string): void {
    this.pendingLogs.push(`${new Date().toISOString()} ${line}`);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.send({}).catch(() => undefined);
      }, 1000);
      this.timer.unref();
    }
  }

  async state(state: RequestState, reason: string, fields?: Record<string, unknown>): Promise<void> {
    await this.send({ state, state_reason: reason, fields });
  }

  async progress(reason: string, fields?: Record<string, unknown>): Promise<void> {
    await this.state('in_progress', reason, fields);
  }

  async fields(fields: Record<string, unknown>): Promise<void> {
    await this.send({ fields });
  }

  async artifacts(artifacts: Record<string, unknown>): Promise<void> {
    await this.send({ artifacts });
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingLogs.length > 0) await this.send({});
  }

  private async send(part: Partial<StateUpdate>): Promise<void> {
    const logs = this.pendingLogs;
    this.pendingLogs = [];
    if (!part.state && !part.fields && !part.artifacts && logs.length === 0) return;
    const update: StateUpdate = {
      key: randomUUID(),
      request_id: this.requestId,
      ...part,
      logs: logs.length > 0 ? logs : undefined,
      builder: this.builder,
      at: new Date().toISOString(),
    };
    try {
      await this.sender.send({ body: update, applicationProperties: { request_id: this.requestId } });
    } catch (err) {
      // Keep the lines for the next attempt rather than lose them.
      this.pendingLogs = logs.concat(this.pendingLogs);
      throw err;
    }
  }
}
