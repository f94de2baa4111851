import type { RequestState } from '../../../shared/contracts';
import { isFinal } from '../../../shared/contracts';
import type { AmqpSender } from '../../../shared/messaging';
import type { FinalStates } from './final-states';
import { reachFaultPoint } from '../tools/fault-points';
import { Reporter } from './reporter';

/** A reporter that, once a final state is recorded, tells every builder (see FinalStates). */
export class AnnouncingReporter extends Reporter {
  constructor(
    sender: AmqpSender,
    requestId: number,
    builder: string,
    private readonly finals: FinalStates,
  ) {
    super(sender, requestId, builder);
  }

  override async state(state: RequestState, reason: string, fields?: Record<string, unknown>): Promise<void> {
    if (isFinal(state)) reachFaultPoint('before-final-state');
    await super.state(state, reason, fields);
    if (isFinal(state)) await this.finals.announce({ request_id: this.requestId, state });
  }
}
