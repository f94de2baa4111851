import { loadNotifierConfig, loadOrExit } from '../../shared/config';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { shutdownTracing } from '../../shared/tracing';
import { startNotifier } from './notifier';

const config = loadOrExit(() => loadNotifierConfig());
const log = createLogger('notifier', config.logLevel);

void runService(log, async () => {
  const notifier = await startNotifier(config, log);
  return [shutdownTracing, () => notifier.stop()];
});
