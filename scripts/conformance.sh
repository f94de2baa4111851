#!/usr/bin/env bash
# Broker conformance: the tests of what the services need from the broker
# (messaging core, lanes, notifier, one request through the four services),
# run against one broker of the local stack.
#
#   IIB_BROKER=activemq npm run test:conformance     (ActiveMQ Classic, 127.0.0.1:5673)
#   IIB_BROKER=rabbitmq npm run test:conformance     (RabbitMQ, 127.0.0.1:5672)
#   IIB_BROKER=artemis npm run test:conformance      (Artemis, 127.0.0.1:5675: bash scripts/stack.sh artemis)
#
# IIB_AMQP_URLS, if set, points at another broker of that kind. Extra
# arguments go to jest (e.g. -t 'serial').
set -euo pipefail
cd "$(dirname "$0")/.."

broker=${IIB_BROKER:-activemq}
case "$broker" in
  activemq)
    export IIB_BROKER_DIALECT=activemq
    export IIB_AMQP_URLS=${IIB_AMQP_URLS:-amqp://guest:guest@127.0.0.1:${IIB_ACTIVEMQ_AMQP_PORT:-5673}}
    start='bash scripts/stack.sh activemq'
    ;;
  rabbitmq)
    export IIB_BROKER_DIALECT=rabbitmq
    export IIB_AMQP_URLS=${IIB_AMQP_URLS:-amqp://guest:guest@127.0.0.1:5672}
    start='npm run stack'
    ;;
  artemis)
    export IIB_BROKER_DIALECT=artemis
    export IIB_AMQP_URLS=${IIB_AMQP_URLS:-amqp://guest:guest@127.0.0.1:5675}
    start='bash scripts/stack.sh artemis'
    ;;
  *)
    echo "conformance: IIB_BROKER=$broker: use activemq, rabbitmq or artemis" >&2
    exit 2
    ;;
esac

files=(
  test/integration/messaging.test.ts
  test/integration/broker-delivery-count.test.ts
  test/integration/scheduler-lanes.test.ts
  test/integration/notifier-format.test.ts
  test/integration/notifier-transport.test.ts
  test/integration/notifier-outage.test.ts
  test/e2e/lanes-serial.test.ts
  test/e2e/create-empty-index.test.ts
)
# ActiveMQ-only guarantees (a broker of the test's own: kill -9, TLS, exclusive
# consumers, virtual topics, durable subscriptions).
[[ $broker == activemq ]] && files+=(test/integration/activemq-broker.test.ts)

echo "conformance: $broker at ${IIB_AMQP_URLS} (if it is down: $start)"
npm run --silent build
exec npx jest "${files[@]}" "$@"
