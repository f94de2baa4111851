import { loadNotifierConfig, loadOrExit } from '../../shared/config';
import { maybeStartHealthListener } from '../../shared/health';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { shutdownTracing } from '../../shared/tracing';
import { startNotifier } from './notifier';

const config = loadOrExit(() => loadNotifierConfig());
const log = createLogger('notifier', config.logLevel);

void runService(log, async () => {
  const notifier = await startNotifier(config, log);
  // Ready when the internal broker is: the external one being away holds
  // messages (see docs/notifier.md), and restarting the notifier would not help.
  const health = await maybeStartHealthListener(config.health, { broker: () => notifier.brokerUp() }, log);
  return [shutdownTracing, health, () => notifier.stop()];
});
