#!/usr/bin/env bash
# npm run lanes: depth, consumers and oldest-message age of every lane, read from
# the broker the services use. The keys of the local stack's .stack/env (broker
# dialect, AMQP URLs, management URLs) apply unless the environment sets them,
# so on the stack it reads ActiveMQ's Jolokia (or RabbitMQ's management API
# after IIB_STACK_BROKER=rabbitmq npm run stack) with no extra settings.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -f .stack/env ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]}
    [[ -n ${!key+x} ]] || export "$key=${BASH_REMATCH[2]}"
  done <.stack/env
fi
exec node dist/services/scheduler/lanes.js "$@"
