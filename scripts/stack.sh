#!/usr/bin/env bash
# Local stack for development and tests on a Debian machine without a Docker
# engine (where one exists, `docker compose up` is the way instead).
#
#   bash scripts/stack.sh up           install what is missing, start PostgreSQL,
#                                      RabbitMQ (AMQP 1.0), the registry, build,
#                                      migrate and (re)start the four services
#   bash scripts/stack.sh down         stop the four services
#   bash scripts/stack.sh down --all   ... and the registry too
#   bash scripts/stack.sh status       what runs
#   bash scripts/stack.sh activemq     install (once) and start only ActiveMQ Classic
#   bash scripts/stack.sh artemis      install (once) and start Artemis (optional,
#                                      for IIB_BROKER=artemis npm run test:conformance)
#
# Brokers: RabbitMQ (Debian's, AMQP 1.0 on 127.0.0.1:5672) and ActiveMQ
# Classic 6.x (jars from Maven Central, AMQP 1.0 on 127.0.0.1:5673) both run;
# IIB_STACK_BROKER=activemq|rabbitmq picks the one the services use (.stack/env;
# ActiveMQ unless asked otherwise).
#
# Everything this script owns lives under .stack/ in the repository: env file,
# logs, pid files, registry config and storage, the ActiveMQ broker (jars, data,
# TLS files). PostgreSQL and RabbitMQ are the system's (Debian packages); `down`
# leaves them running, `down --all` stops the registry and ActiveMQ.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
LOGS="$STACK/logs"
PIDS="$STACK/pids"
ENV_FILE="$STACK/env"
SERVICES=(gateway scheduler builder notifier)
# The Node.js everything runs on: the project's (use_project_node).
NODE="$ROOT/node_modules/.bin/node"
NODE_MAJOR=24
REGISTRY_PORT=5000
# Second listener on the same storage: the opm goldens in the fixtures name
# their bundle images localhost:5055/fixtures/..., so a catalog test can render
# the very same reference opm did.
GOLDEN_REGISTRY_PORT=5055
# A registry that requires auth (htpasswd) for the overwrite_from_index tests;
# test/e2e/builder-overwrite.test.ts starts and stops it itself, this script
# only lists it as a plain-HTTP registry for skopeo and buildah.
AUTH_REGISTRY_PORT=5056
REGISTRIES_CONF=/etc/containers/registries.conf.d/50-iib-local.conf
PACKAGES=(postgresql rabbitmq-server buildah skopeo podman docker-registry uidmap fuse-overlayfs curl ca-certificates openssl chromium)
PACKAGES+=(tmux) # the iib CLI is tested in a real terminal (test/e2e/cli.test.ts)
# GSSAPI for the gateway's kerberos mode (the kerberos addon builds against
# libkrb5-dev), and an MIT KDC for its tests (test/support/kdc.ts).
PACKAGES+=(libkrb5-dev krb5-kdc krb5-admin-server krb5-user)
# ActiveMQ Classic of the local stack: loopback only, beside RabbitMQ (which
# keeps 5672). Its jars come from Maven Central (deploy/activemq/pom.xml), its
# configuration is docker-compose's (deploy/activemq/activemq.xml).
ACTIVEMQ_DIR="$STACK/activemq"
ACTIVEMQ_AMQP_PORT=${IIB_ACTIVEMQ_AMQP_PORT:-5673}
ACTIVEMQ_AMQPS_PORT=${IIB_ACTIVEMQ_AMQPS_PORT:-5674}
ACTIVEMQ_OPENWIRE_PORT=${IIB_ACTIVEMQ_OPENWIRE_PORT:-61616}
ACTIVEMQ_JOLOKIA_PORT=${IIB_ACTIVEMQ_JOLOKIA_PORT:-8161}
ACTIVEMQ_TLS_PASSWORD=iib-stack
# Artemis, optional (`stack.sh artemis`): from Maven Central as well, AMQP 1.0
# on 127.0.0.1:5675 (the broker's ports shifted by 3, core on 61619).
ARTEMIS_VERSION=2.40.0
ARTEMIS_DIR="$STACK/artemis"
ARTEMIS_AMQP_PORT=5675
# The broker the services use: activemq (default) or rabbitmq. Without
# IIB_STACK_BROKER in the environment, the choice written in .stack/env stays.
STACK_BROKER=${IIB_STACK_BROKER:-$({ [[ -f $ENV_FILE ]] && sed -n 's/^IIB_STACK_BROKER=//p' "$ENV_FILE" | tail -n1; } || true)}
STACK_BROKER=${STACK_BROKER:-activemq}

if [[ -t 1 ]]; then
  B=$'\e[1m' R=$'\e[31m' Y=$'\e[33m' G=$'\e[32m' N=$'\e[0m'
else
  B='' R='' Y='' G='' N=''
fi
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }
ok() { printf '    %sok%s %s\n' "$G" "$N" "$*"; }
warn() { printf '    %swarning:%s %s\n' "$Y" "$N" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$R" "$N" "$*" >&2
  exit 1
}

# --- helpers ---------------------------------------------------------------

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "'$*' needs root; run this script as root or install sudo"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for <seconds> <description> <command...>
wait_for() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
  ok "$what"
}

http_ok() { curl -fs -o /dev/null --max-time 3 "$1"; }

# pid_alive <pidfile> <pattern that /proc/<pid>/cmdline must contain>
# The pattern guards against a reused pid after a reboot or crash.
pid_alive() {
  local file=$1 pattern=$2 pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# stop_pid <name> <pidfile> <pattern>
stop_pid() {
  local name=$1 file=$2 pattern=$3 pid i
  if ! pid_alive "$file" "$pattern"; then
    rm -f "$file"
    return 0
  fi
  pid=$(<"$file")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name (pid $pid) did not stop within 15 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  ok "stopped $name (pid $pid)"
}

# start_bg <name> <logfile> <pidfile> <command...>: detached from this shell,
# its own session, pid written by the process itself (so it is the real one).
start_bg() {
  local name=$1 log=$2 pidfile=$3
  shift 3
  [[ -f $log ]] && mv -f "$log" "$log.1"
  printf '=== %s started %s: %s\n' "$name" "$(date -Is)" "$*" >"$log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  # 9>&-: the daemon must not inherit the lock of `up` (it would hold it forever).
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" </dev/null >>"$log" 2>&1 9>&- &
  local i
  for ((i = 0; i < 20; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.05
  done
  die "$name did not start (see $log)"
}

log_tail() {
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n "${2:-30}" "$1" >&2 || true
  printf -- '---\n' >&2
}

# Reads KEY=value lines (no shell evaluation, so values may hold & ? $ etc.).
load_env() {
  local line key value
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || {
      warn "$ENV_FILE: ignoring line: $line"
      continue
    }
    key=${BASH_REMATCH[2]}
    value=${BASH_REMATCH[3]}
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    export "$key=$value"
  done <"$ENV_FILE"
}

# --- steps -----------------------------------------------------------------

ensure_packages() {
  step "system packages"
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    ok "all installed"
    return
  fi
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: this script expects Debian/Ubuntu"
  step "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
  ok "installed ${missing[*]}"
  # Where package scripts may start services, Debian's own registry would take
  # :5000 (with htpasswd auth); this script runs its own, so stop that one.
  if [[ " ${missing[*]} " == *" docker-registry "* ]]; then
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
      as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/docker-registry ]]; then
      as_root /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
      as_root update-rc.d docker-registry disable >/dev/null 2>&1 || true
    fi
  fi
}

# The system's node only runs npm: the project installs its own Node.js (below).
ensure_node() {
  command -v node >/dev/null || die "node is not installed (Node >= 20 with npm is needed to install the project; Debian's nodejs package is too old: use NodeSource or nvm)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 20)) || die "Node $(node --version) is too old to run npm: Node >= 20 is needed"
  command -v npm >/dev/null || die "npm is not installed"
}

# The project's own Node.js: the npm package `node` (a devDependency, its
# version locked in package-lock.json) puts it at node_modules/.bin/node, where
# every `npm run` script finds it first. This script runs everything of the
# project with it too: migrations, test images, the four services.
use_project_node() {
  [[ -x $NODE ]] || die "$NODE is missing: npm ci installs it (not with --ignore-scripts; or: npm rebuild node)"
  local version
  version=$("$NODE" -p 'process.versions.node') || die "$NODE does not run"
  [[ ${version%%.*} == "$NODE_MAJOR" ]] || die "$NODE is Node $version, Node $NODE_MAJOR is expected (run: npm ci)"
  export PATH="$ROOT/node_modules/.bin:$PATH"
  ok "Node.js $version (node_modules/.bin/node)"
}

pg_psql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -w "$@"; }

ensure_postgres() {
  step "PostgreSQL on 127.0.0.1:5432"
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    local ver name
    read -r ver name _ < <(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432' | head -n1) || true
    if [[ -z ${ver:-} ]]; then
      ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -n1)
      [[ -n $ver ]] || die "PostgreSQL is not installed (no /usr/lib/postgresql/<version>)"
      name=main
      if ! pg_lsclusters --no-header 2>/dev/null | awk -v v="$ver" '$1 == v && $2 == "main"' | grep -q .; then
        as_root pg_createcluster --port 5432 "$ver" main >/dev/null
        ok "created cluster $ver/main"
      fi
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
      die "could not start PostgreSQL cluster $ver/$name (see /var/log/postgresql/postgresql-$ver-$name.log)"
    wait_for 30 "PostgreSQL $ver/$name started" pg_isready -q -h 127.0.0.1 -p 5432 ||
      die "PostgreSQL $ver/$name does not answer on 127.0.0.1:5432"
  else
    ok "running"
  fi

  # The URL carries no password: loopback connections must be trusted.
  if ! pg_psql -d postgres -c 'select 1' >/dev/null 2>&1; then
    local hba
    hba=$(as_root runuser -u postgres -- psql -X -p 5432 -tAc 'show hba_file') ||
      die "cannot reach PostgreSQL as the postgres OS user to read pg_hba.conf"
    if ! grep -q '# iib-stack' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust # iib-stack: loopback trust for local development\nhost all all ::1/128 trust # iib-stack' "$hba"
      as_root runuser -u postgres -- psql -X -p 5432 -qc 'select pg_reload_conf()' >/dev/null
      ok "loopback trust added to $hba"
    fi
    pg_psql -d postgres -c 'select 1' >/dev/null ||
      die "cannot connect as postgres@127.0.0.1:5432 without a password; check $hba"
  fi

  if [[ $(pg_psql -d postgres -tAc "select 1 from pg_roles where rolname = 'iib'") != 1 ]]; then
    pg_psql -d postgres -c 'create role iib login'
    ok "created role iib"
  fi
  if [[ $(pg_psql -d postgres -tAc "select 1 from pg_database where datname = 'iib'") != 1 ]]; then
    pg_psql -d postgres -c 'create database iib owner iib'
    ok "created database iib"
  fi
  ok "database iib ready"
}

rabbit_fresh() {
  # Never started: no node data yet, so the node name may still be chosen.
  [[ -z $(find /var/lib/rabbitmq/mnesia -mindepth 1 -maxdepth 1 2>/dev/null | head -n1) ]]
}

ensure_rabbitmq() {
  step "RabbitMQ on 127.0.0.1:5672 (AMQP 1.0) and :15672 (management)"
  local plugins=(rabbitmq_amqp1_0 rabbitmq_management) running=false missing=() p
  port_open 5672 && running=true

  if [[ $running == false ]] && rabbit_fresh; then
    # A container's hostname often does not resolve; a fixed loopback node
    # name makes the first start work everywhere. Only set on a node that
    # never ran: renaming a node orphans its data.
    if ! grep -qs '^[[:space:]]*NODENAME=' /etc/rabbitmq/rabbitmq-env.conf; then
      as_root mkdir -p /etc/rabbitmq
      printf '%s\n' '# iib-stack' 'NODENAME=rabbit@localhost' 'NODE_IP_ADDRESS=127.0.0.1' 'ERL_EPMD_ADDRESS=127.0.0.1' |
        as_root tee -a /etc/rabbitmq/rabbitmq-env.conf >/dev/null
      ok "node name rabbit@localhost (/etc/rabbitmq/rabbitmq-env.conf)"
    fi
    if [[ ! -e /etc/rabbitmq/rabbitmq.conf ]]; then
      printf '%s\n' '# iib-stack: loopback only' 'listeners.tcp.local = 127.0.0.1:5672' 'management.tcp.ip = 127.0.0.1' |
        as_root tee /etc/rabbitmq/rabbitmq.conf >/dev/null
    fi
  fi

  for p in "${plugins[@]}"; do
    grep -qs "$p" /etc/rabbitmq/enabled_plugins || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    if [[ $running == true ]]; then
      as_root rabbitmq-plugins enable "${plugins[@]}" >/dev/null || die "rabbitmq-plugins enable ${plugins[*]} failed"
    else
      as_root rabbitmq-plugins enable --offline "${plugins[@]}" >/dev/null || die "rabbitmq-plugins enable --offline ${plugins[*]} failed"
    fi
    ok "enabled ${missing[*]}"
  fi

  if [[ $running == false ]]; then
    as_root rabbitmq-server -detached >/dev/null 2>&1 || die "rabbitmq-server -detached failed (see /var/log/rabbitmq/)"
  fi
  wait_for 90 "AMQP 127.0.0.1:5672" port_open 5672 ||
    die "RabbitMQ does not listen on 127.0.0.1:5672 (see /var/log/rabbitmq/)"
  if ! wait_for 60 "management API 127.0.0.1:15672" http_ok http://guest:guest@127.0.0.1:15672/api/overview; then
    # The enabled_plugins file may list a plugin a running node has not loaded.
    as_root rabbitmq-plugins enable "${plugins[@]}" >/dev/null 2>&1 || true
    wait_for 30 "management API 127.0.0.1:15672" http_ok http://guest:guest@127.0.0.1:15672/api/overview ||
      die "RabbitMQ management API does not answer on http://127.0.0.1:15672 (guest/guest); try: rabbitmq-plugins enable ${plugins[*]}"
  fi
  curl -fsS --max-time 5 http://guest:guest@127.0.0.1:15672/api/overview | grep -q '"amqp"' ||
    warn "the management API lists no amqp listener"
  # A topic subscription (the builders' final-state feed) is a server-named
  # amq.gen-* queue that RabbitMQ 3.x's AMQP 1.0 plugin deletes only when the
  # link is closed: a subscriber that died or lost its connection leaves it
  # behind, filling with every later message. Unused for 10 minutes, it goes.
  if curl -fsS --max-time 5 -u guest:guest -X PUT -H 'content-type: application/json' \
    --data '{"pattern":"^amq\\.gen-","definition":{"expires":600000},"apply-to":"queues","priority":0}' \
    http://127.0.0.1:15672/api/policies/%2F/iib-abandoned-subscriptions >/dev/null; then
    ok "policy iib-abandoned-subscriptions (amq.gen-* queues unused for 10 min expire)"
  else
    warn "could not set the policy iib-abandoned-subscriptions (abandoned topic subscriptions will stay)"
  fi
}

# --- ActiveMQ Classic ------------------------------------------------------

ensure_java_maven() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v keytool >/dev/null || [[ " ${missing[*]} " == *" openjdk-17-jre-headless "* ]] || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  ((${#missing[@]} == 0)) && return
  command -v apt-get >/dev/null || die "ActiveMQ needs Java >= 17 and Maven (${missing[*]}); install them"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
  ok "installed ${missing[*]}"
}

pom_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$ROOT/deploy/activemq/pom.xml" | head -n1; }

# Resolves the broker's jars from Maven Central into .stack/activemq/lib (once
# per version of deploy/activemq/pom.xml) and Jolokia's JVM agent, which serves
# the Jolokia REST API (what `npm run lanes` reads) without the web console.
install_activemq() {
  local pom="$ROOT/deploy/activemq/pom.xml" stamp="$ACTIVEMQ_DIR/lib/.installed" want
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    ok "ActiveMQ $(pom_property activemq.version) installed (.stack/activemq/lib)"
    return
  fi
  ensure_java_maven
  local jolokia
  jolokia=$(pom_property jolokia.version)
  rm -rf "$ACTIVEMQ_DIR/lib.new" "$ACTIVEMQ_DIR/agent"
  mkdir -p "$ACTIVEMQ_DIR/lib.new" "$ACTIVEMQ_DIR/agent"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$ACTIVEMQ_DIR/lib.new" >"$LOGS/activemq-install.log" 2>&1 || {
    log_tail "$LOGS/activemq-install.log"
    die "Maven could not resolve the ActiveMQ jars (deploy/activemq/pom.xml; needs Maven Central)"
  }
  mvn -q -B -f "$pom" dependency:copy -Dartifact="org.jolokia:jolokia-agent-jvm:$jolokia:jar:javaagent" \
    -DoutputDirectory="$ACTIVEMQ_DIR/agent" >>"$LOGS/activemq-install.log" 2>&1 || {
    log_tail "$LOGS/activemq-install.log"
    die "Maven could not resolve org.jolokia:jolokia-agent-jvm:$jolokia:javaagent"
  }
  rm -rf "$ACTIVEMQ_DIR/lib"
  mv "$ACTIVEMQ_DIR/lib.new" "$ACTIVEMQ_DIR/lib"
  printf '%s\n' "$want" >"$stamp"
  ok "ActiveMQ $(pom_property activemq.version) installed from Maven Central ($(find "$ACTIVEMQ_DIR/lib" -name '*.jar' | wc -l) jars)"
}

# A CA of the stack's own, the broker's key and certificate (127.0.0.1,
# localhost) and a client certificate, for the amqp+ssl connector (client
# certificate required): .stack/activemq/tls/{ca,client}.pem, client.key.
ensure_activemq_tls() {
  local dir="$ACTIVEMQ_DIR/tls"
  [[ -f $dir/broker.p12 && -f $dir/truststore.p12 && -f $dir/client.pem ]] && return
  rm -rf "$dir"
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=iib-stack-ca -days 3650
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    local n
    for n in server client; do
      openssl req -newkey rsa:2048 -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=iib-stack-$n"
      openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$n.pem" -extfile "$n.ext" -days 3650
    done
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name broker \
      -out broker.p12 -passout "pass:$ACTIVEMQ_TLS_PASSWORD"
    keytool -importcert -noprompt -alias iib-stack-ca -file ca.pem -keystore truststore.p12 \
      -storetype PKCS12 -storepass "$ACTIVEMQ_TLS_PASSWORD"
  ) >"$LOGS/activemq-tls.log" 2>&1 || {
    log_tail "$LOGS/activemq-tls.log"
    die "could not make the ActiveMQ TLS files (openssl, keytool)"
  }
  ok "TLS files for amqps://127.0.0.1:$ACTIVEMQ_AMQPS_PORT (.stack/activemq/tls: ca.pem, client.pem, client.key)"
}

# The java command line of the stack's broker; its first argument marks it as ours.
activemq_command() {
  local conf="$ROOT/deploy/activemq"
  printf '%s\n' java "-Diib.stack.broker=$ACTIVEMQ_DIR" -Xms64m -Xmx512m \
    "-Dactivemq.home=$ACTIVEMQ_DIR" "-Dactivemq.base=$ACTIVEMQ_DIR" \
    "-Dactivemq.conf=$conf" "-Dactivemq.data=$ACTIVEMQ_DIR/data" \
    "-Diib.amqp.host=127.0.0.1" "-Diib.amqp.port=$ACTIVEMQ_AMQP_PORT" \
    "-Diib.amqps.host=127.0.0.1" "-Diib.amqps.port=$ACTIVEMQ_AMQPS_PORT" \
    "-Diib.openwire.host=127.0.0.1" "-Diib.openwire.port=$ACTIVEMQ_OPENWIRE_PORT" \
    "-Diib.ssl.keystore=file:$ACTIVEMQ_DIR/tls/broker.p12" "-Diib.ssl.keystore.password=$ACTIVEMQ_TLS_PASSWORD" \
    -Diib.ssl.keystore.type=PKCS12 \
    "-Diib.ssl.truststore=file:$ACTIVEMQ_DIR/tls/truststore.p12" "-Diib.ssl.truststore.password=$ACTIVEMQ_TLS_PASSWORD" \
    -Diib.ssl.truststore.type=PKCS12 \
    "-Diib.web.config=file:$conf/no-web-console.xml" \
    "-javaagent:$(find "$ACTIVEMQ_DIR/agent" -name 'jolokia-agent-jvm-*-javaagent.jar' | head -n1)=host=127.0.0.1,port=$ACTIVEMQ_JOLOKIA_PORT,agentContext=/api/jolokia" \
    -cp "$ACTIVEMQ_DIR/lib/*" org.apache.activemq.console.command.ShellCommand \
    start "xbean:file:$conf/activemq.xml"
}

activemq_jolokia_url() { echo "http://127.0.0.1:$ACTIVEMQ_JOLOKIA_PORT/api/jolokia"; }

activemq_ready() {
  port_open "$ACTIVEMQ_AMQP_PORT" &&
    curl -fs --max-time 3 "$(activemq_jolokia_url)/read/org.apache.activemq:type=Broker,brokerName=iib/BrokerVersion" |
    grep -q '"status":200'
}

ensure_activemq() {
  step "ActiveMQ Classic on 127.0.0.1:$ACTIVEMQ_AMQP_PORT (AMQP 1.0), :$ACTIVEMQ_AMQPS_PORT (AMQP over TLS), Jolokia :$ACTIVEMQ_JOLOKIA_PORT"
  mkdir -p "$LOGS" "$PIDS" "$ACTIVEMQ_DIR/data"
  install_activemq
  ensure_activemq_tls
  local pidfile="$PIDS/activemq.pid" marker="-Diib.stack.broker=$ACTIVEMQ_DIR" cmd=() state want
  mapfile -t cmd < <(activemq_command)
  # Restarted when its configuration or command line changed since it started.
  want=$( (printf '%s\n' "${cmd[@]}"; cat "$ROOT/deploy/activemq/activemq.xml") | sha256sum | cut -d' ' -f1)
  state="$ACTIVEMQ_DIR/started-with"
  if pid_alive "$pidfile" "$marker"; then
    if [[ -f $state && $(<"$state") == "$want" ]]; then
      wait_for 60 "running (pid $(<"$pidfile"))" activemq_ready ||
        die "ActiveMQ (pid $(<"$pidfile")) does not answer on :$ACTIVEMQ_AMQP_PORT and Jolokia (see .stack/logs/activemq.log)"
      return
    fi
    stop_pid "ActiveMQ (its configuration changed)" "$pidfile" "$marker"
  fi
  local port
  for port in "$ACTIVEMQ_AMQP_PORT" "$ACTIVEMQ_AMQPS_PORT" "$ACTIVEMQ_OPENWIRE_PORT" "$ACTIVEMQ_JOLOKIA_PORT"; do
    port_open "$port" && die "port 127.0.0.1:$port, which ActiveMQ needs, is taken: $(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2) (IIB_ACTIVEMQ_*_PORT move them)"
  done
  start_bg activemq "$LOGS/activemq.log" "$pidfile" "${cmd[@]}"
  printf '%s\n' "$want" >"$state"
  wait_for 90 "ActiveMQ $(pom_property activemq.version) started (pid $(<"$pidfile"))" activemq_ready || {
    log_tail "$LOGS/activemq.log" 40
    die "ActiveMQ did not come up on 127.0.0.1:$ACTIVEMQ_AMQP_PORT (log: .stack/logs/activemq.log)"
  }
}

stop_activemq() {
  stop_pid activemq "$PIDS/activemq.pid" "-Diib.stack.broker=$ACTIVEMQ_DIR"
}

# --- Artemis (optional) ------------------------------------------------------

ensure_artemis() {
  step "Artemis $ARTEMIS_VERSION on 127.0.0.1:$ARTEMIS_AMQP_PORT (AMQP 1.0)"
  mkdir -p "$LOGS" "$PIDS" "$ARTEMIS_DIR"
  local home="$ARTEMIS_DIR/apache-artemis-$ARTEMIS_VERSION" instance="$ARTEMIS_DIR/instance"
  if [[ ! -x $home/bin/artemis ]]; then
    ensure_java_maven
    mvn -q -B dependency:copy -Dartifact="org.apache.activemq:apache-artemis:$ARTEMIS_VERSION:tar.gz:bin" \
      -DoutputDirectory="$ARTEMIS_DIR" >"$LOGS/artemis-install.log" 2>&1 || {
      log_tail "$LOGS/artemis-install.log"
      die "Maven could not resolve org.apache.activemq:apache-artemis:$ARTEMIS_VERSION:tar.gz:bin"
    }
    tar -xzf "$ARTEMIS_DIR/apache-artemis-$ARTEMIS_VERSION-bin.tar.gz" -C "$ARTEMIS_DIR"
    rm -f "$ARTEMIS_DIR/apache-artemis-$ARTEMIS_VERSION-bin.tar.gz"
    ok "installed from Maven Central"
  fi
  if [[ ! -f $instance/etc/broker.xml ]]; then
    # Port offset 3: AMQP 5675, core 61619, console 8164; no STOMP/MQTT/HornetQ
    # acceptors (their ports would meet ActiveMQ's).
    "$home/bin/artemis" create "$instance" --user guest --password guest --allow-anonymous \
      --host 127.0.0.1 --http-host 127.0.0.1 --port-offset 3 --no-stomp-acceptor --no-mqtt-acceptor \
      --no-hornetq-acceptor --nio --silent --java-memory 256M >"$LOGS/artemis-create.log" 2>&1 || {
      log_tail "$LOGS/artemis-create.log"
      die "artemis create failed"
    }
    sed -i 's/-Xms[0-9]*[MmGg]/-Xms64M/' "$instance/etc/artemis.profile"
    local fragment="$ROOT/deploy/artemis/address-settings.xml" tmp
    tmp=$(mktemp)
    awk -v f="$fragment" '/<\/address-settings>/ { while ((getline line < f) > 0) print line } { print }' \
      "$instance/etc/broker.xml" >"$tmp" && mv "$tmp" "$instance/etc/broker.xml"
    ok "broker instance .stack/artemis/instance (serial lanes exclusive)"
  fi
  local pidfile="$PIDS/artemis.pid"
  if pid_alive "$pidfile" "$instance"; then
    ok "running (pid $(<"$pidfile"))"
    return
  fi
  port_open "$ARTEMIS_AMQP_PORT" && die "port 127.0.0.1:$ARTEMIS_AMQP_PORT, which Artemis needs, is taken"
  start_bg artemis "$LOGS/artemis.log" "$pidfile" "$instance/bin/artemis" run
  wait_for 90 "Artemis started (pid $(<"$pidfile"))" port_open "$ARTEMIS_AMQP_PORT" || {
    log_tail "$LOGS/artemis.log" 40
    die "Artemis did not come up on 127.0.0.1:$ARTEMIS_AMQP_PORT (log: .stack/logs/artemis.log)"
  }
}

stop_artemis() {
  stop_pid artemis "$PIDS/artemis.pid" "$ARTEMIS_DIR/instance"
}

# The broker the services use, as .stack/env defaults.
broker_defaults() {
  case "$STACK_BROKER" in
    activemq)
      echo "IIB_AMQP_URLS=amqp://guest:guest@127.0.0.1:$ACTIVEMQ_AMQP_PORT"
      echo "IIB_BROKER_DIALECT=activemq"
      echo "IIB_MESSAGING_URLS=amqp://guest:guest@127.0.0.1:$ACTIVEMQ_AMQP_PORT"
      ;;
    rabbitmq)
      echo "IIB_AMQP_URLS=amqp://guest:guest@127.0.0.1:5672"
      echo "IIB_BROKER_DIALECT=rabbitmq"
      echo "IIB_MESSAGING_URLS=amqp://guest:guest@127.0.0.1:5672"
      ;;
    *) die "IIB_STACK_BROKER=$STACK_BROKER: use rabbitmq or activemq" ;;
  esac
}

write_registry_config() {
  local port=$1 file=$2
  mkdir -p "$STACK/registry/data"
  cat >"$file" <<EOF
# Generated by scripts/stack.sh; edits are overwritten.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: registry-$port
storage:
  filesystem:
    rootdirectory: $STACK/registry/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
}

start_registry() {
  local port=$1 name=registry
  [[ $port == "$REGISTRY_PORT" ]] || name=registry-$port
  local conf="$STACK/registry/config-$port.yml" pidfile="$PIDS/$name.pid"
  write_registry_config "$port" "$conf.new"
  if pid_alive "$pidfile" "$conf"; then
    if cmp -s "$conf.new" "$conf"; then
      rm -f "$conf.new"
      ok "$name running (pid $(<"$pidfile"))"
      return
    fi
    stop_pid "$name (its config changed)" "$pidfile" "$conf"
  fi
  if port_open "$port"; then
    rm -f "$conf.new"
    if http_ok "http://127.0.0.1:$port/v2/"; then
      warn "a registry not started by this script already answers on 127.0.0.1:$port; using it"
      return
    fi
    die "port 127.0.0.1:$port is taken by another program (not a registry answering /v2/ without auth; Debian's docker-registry service? /etc/init.d/docker-registry stop): $(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2)"
  fi
  mv -f "$conf.new" "$conf"
  start_bg "$name" "$LOGS/$name.log" "$pidfile" docker-registry serve "$conf"
  wait_for 20 "$name on 127.0.0.1:$port" http_ok "http://127.0.0.1:$port/v2/" || {
    log_tail "$LOGS/$name.log"
    die "the registry did not come up on 127.0.0.1:$port"
  }
}

ensure_registry() {
  step "registry on 127.0.0.1:$REGISTRY_PORT (and :$GOLDEN_REGISTRY_PORT, same storage)"
  command -v docker-registry >/dev/null || die "docker-registry is not installed (apt-get install docker-registry)"
  start_registry "$REGISTRY_PORT"
  start_registry "$GOLDEN_REGISTRY_PORT"

  local want
  want=$(
    cat <<EOF
# Written by scripts/stack.sh: the local development registries speak plain HTTP.
[[registry]]
location = "localhost:$REGISTRY_PORT"
insecure = true

[[registry]]
location = "127.0.0.1:$REGISTRY_PORT"
insecure = true

[[registry]]
location = "localhost:$GOLDEN_REGISTRY_PORT"
insecure = true

[[registry]]
location = "127.0.0.1:$GOLDEN_REGISTRY_PORT"
insecure = true

[[registry]]
location = "localhost:$AUTH_REGISTRY_PORT"
insecure = true

[[registry]]
location = "127.0.0.1:$AUTH_REGISTRY_PORT"
insecure = true
EOF
  )
  if [[ $(cat "$REGISTRIES_CONF" 2>/dev/null) != "$want" ]]; then
    as_root mkdir -p "$(dirname "$REGISTRIES_CONF")"
    printf '%s\n' "$want" | as_root tee "$REGISTRIES_CONF" >/dev/null
    ok "wrote $REGISTRIES_CONF (localhost:$REGISTRY_PORT, :$GOLDEN_REGISTRY_PORT, :$AUTH_REGISTRY_PORT insecure)"
  fi
}

check_tools() {
  step "buildah and skopeo (vfs, chroot) against the local registry"
  export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
  [[ -f /etc/containers/policy.json ]] || die "/etc/containers/policy.json is missing (reinstall containers-common: apt-get install --reinstall containers-common)"
  local ctx="$STACK/tmp/check" ref="localhost:$REGISTRY_PORT/iib-stack-check/smoke:latest" out
  rm -rf "$ctx"
  mkdir -p "$ctx"
  printf 'iib stack check %s\n' "$(date -Is)" >"$ctx/hello.txt"
  printf 'FROM scratch\nCOPY hello.txt /hello.txt\n' >"$ctx/Containerfile"
  if ! out=$(buildah build --quiet --storage-driver vfs --isolation chroot --layers=false \
    -t "$ref" -f "$ctx/Containerfile" "$ctx" 2>&1); then
    printf '%s\n' "$out" >&2
    die "buildah cannot build a FROM scratch image with --storage-driver vfs --isolation chroot (see above)"
  fi
  if ! out=$(buildah push --quiet --storage-driver vfs --tls-verify=false "$ref" "docker://$ref" 2>&1); then
    printf '%s\n' "$out" >&2
    die "buildah cannot push to the local registry $ref (see above)"
  fi
  buildah rmi --storage-driver vfs "$ref" >/dev/null 2>&1 || true
  if ! out=$(skopeo inspect --tls-verify=false "docker://$ref" 2>&1); then
    printf '%s\n' "$out" >&2
    die "skopeo cannot inspect $ref (see above)"
  fi
  rm -rf "$ctx"
  ok "built, pushed and inspected $ref"
}

write_env() {
  step "environment (.stack/env)"
  mkdir -p "$STACK"
  local broker_kv=() kv
  mapfile -t broker_kv < <(broker_defaults)
  local -A broker=()
  for kv in "${broker_kv[@]}"; do broker[${kv%%=*}]=${kv#*=}; done
  local defaults=(
    "IIB_STACK_BROKER=$STACK_BROKER"
    "IIB_DATABASE_URL=${IIB_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/iib}"
    "IIB_AMQP_URLS=${IIB_AMQP_URLS:-${broker[IIB_AMQP_URLS]}}"
    "IIB_BROKER_DIALECT=${IIB_BROKER_DIALECT:-${broker[IIB_BROKER_DIALECT]}}"
    "IIB_RABBITMQ_MANAGEMENT_URL=${IIB_RABBITMQ_MANAGEMENT_URL:-http://guest:guest@127.0.0.1:15672}"
    "IIB_ACTIVEMQ_JOLOKIA_URL=${IIB_ACTIVEMQ_JOLOKIA_URL:-$(activemq_jolokia_url)}"
    "IIB_REGISTRY=${IIB_REGISTRY:-localhost:$REGISTRY_PORT}"
    "IIB_GATEWAY_PORT=${IIB_GATEWAY_PORT:-8080}"
    "STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}"
    "BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}"
    "LOGIN_DISABLED=${LOGIN_DISABLED:-true}"
    "IIB_MESSAGING_URLS=${IIB_MESSAGING_URLS:-${broker[IIB_MESSAGING_URLS]}}"
    "IIB_MESSAGING_BUILD_STATE_DESTINATION=${IIB_MESSAGING_BUILD_STATE_DESTINATION:-topic://VirtualTopic.eng.iib.build.state}"
    "IIB_MESSAGING_BATCH_STATE_DESTINATION=${IIB_MESSAGING_BATCH_STATE_DESTINATION:-topic://VirtualTopic.eng.iib.batch.state}"
    "IIB_SECRETS_KEY=${IIB_SECRETS_KEY:-$(head -c 32 /dev/urandom | base64)}"
  )
  if [[ ! -f $ENV_FILE ]]; then
    {
      echo '# Environment of the services started by scripts/stack.sh (KEY=value, no quoting needed).'
      echo '# Edit and re-run "npm run stack"; keys missing here are added with their defaults.'
      echo '# IIB_STACK_BROKER=activemq|rabbitmq npm run stack moves the services to that broker.'
      printf '%s\n' "${defaults[@]}"
    } >"$ENV_FILE"
    ok "wrote $ENV_FILE (broker: $STACK_BROKER)"
    return
  fi
  # Another broker asked for (IIB_STACK_BROKER in the environment): its keys
  # replace the broker keys of the file; everything else stays.
  local current
  current=$(sed -n 's/^IIB_STACK_BROKER=//p' "$ENV_FILE" | tail -n1)
  if [[ -n ${IIB_STACK_BROKER:-} && ${current:-activemq} != "$STACK_BROKER" ]]; then
    local key
    for key in IIB_STACK_BROKER "${!broker[@]}"; do sed -i "/^$key=/d" "$ENV_FILE"; done
    { echo "IIB_STACK_BROKER=$STACK_BROKER"; printf '%s\n' "${broker_kv[@]}"; } >>"$ENV_FILE"
    ok "services moved from ${current:-activemq} to $STACK_BROKER (${broker_kv[*]})"
  fi
  local added=()
  for kv in "${defaults[@]}"; do
    grep -q "^${kv%%=*}=" "$ENV_FILE" || {
      printf '%s\n' "$kv" >>"$ENV_FILE"
      added+=("${kv%%=*}")
    }
  done
  if ((${#added[@]} == 0)); then ok "unchanged"; else ok "added ${added[*]} to $ENV_FILE"; fi
}

build_app() {
  step "node dependencies and build"
  cd "$ROOT"
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || ! -x $NODE ]]; then
    npm ci --no-audit --no-fund || die "npm ci failed"
  else
    ok "node_modules up to date"
  fi
  use_project_node
  npm run --silent build || die "npm run build failed (TypeScript errors above)"
  ok "built into dist/"
}

migrate() {
  step "database migrations"
  local script="$ROOT/dist/services/gateway/migrate.js"
  if [[ ! -f $script ]]; then
    warn "dist/services/gateway/migrate.js does not exist yet; skipping migrations"
    return
  fi
  (cd "$ROOT" && load_env && "$NODE" "$script") || die "migrations failed ($NODE dist/services/gateway/migrate.js)"
  ok "migrated"
}

test_images() {
  step "test images (scripts/test-images.sh)"
  local fixtures="${IIB_FIXTURES_DIR:-$ROOT/../shared/fixtures/olm}"
  if [[ ! -d $fixtures/bundles ]]; then
    warn "fixtures not found at $fixtures (set IIB_FIXTURES_DIR); test images not built"
    return
  fi
  # The README's curl example uses them; fast when they are already pushed.
  bash "$ROOT/scripts/test-images.sh" --quiet || die "scripts/test-images.sh failed"
  ok "localhost:$REGISTRY_PORT/iib-test/index:v4.18, iib-test/binary:v1, fixtures/<op>-bundle:v<ver>"
}

svc_pattern() { echo "dist/services/$1/main.js"; }

stop_services() {
  local i svc
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    svc=${SERVICES[i]}
    stop_pid "$svc" "$PIDS/$svc.pid" "$(svc_pattern "$svc")"
  done
}

# The services of another checkout's stack hold the same ports and queues;
# one machine runs one stack, so a new `up` takes over from them. They are
# recognised by how this script starts them (a relative dist/ path), which
# test runs (absolute paths) never match.
stop_foreign_services() {
  local pid cwd stopped=()
  for pid in $(pgrep -f "(^| )dist/services/(gateway|scheduler|builder|notifier)/main\.js" || true); do
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
    [[ -n $cwd && $cwd != "$ROOT" ]] || continue
    kill -TERM "$pid" 2>/dev/null && stopped+=("$pid")
  done
  ((${#stopped[@]} == 0)) && return
  warn "stopped the services of another checkout's stack (pids ${stopped[*]})"
  for pid in "${stopped[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

start_services() {
  step "services"
  local svc started=() preload=()
  if [[ -f $ROOT/dist/shared/tracing/preload.js ]]; then
    preload=(--require ./dist/shared/tracing/preload.js)
  else
    warn "dist/shared/tracing/preload.js does not exist yet; starting without the tracing preload"
  fi
  stop_services
  stop_foreign_services
  (
    cd "$ROOT"
    load_env
    local port=${IIB_GATEWAY_PORT:-8080}
    if [[ -f dist/services/gateway/main.js ]] && port_open "$port"; then
      die "port $port (IIB_GATEWAY_PORT) is taken by another program: $(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2)"
    fi
    for svc in "${SERVICES[@]}"; do
      if [[ ! -f dist/services/$svc/main.js ]]; then
        warn "dist/services/$svc/main.js does not exist yet; not starting $svc"
        continue
      fi
      start_bg "$svc" "$LOGS/$svc.log" "$PIDS/$svc.pid" "$NODE" "${preload[@]}" "$(svc_pattern "$svc")"
    done
  )
  sleep 1
  for svc in "${SERVICES[@]}"; do
    [[ -f $PIDS/$svc.pid ]] || continue
    if pid_alive "$PIDS/$svc.pid" "$(svc_pattern "$svc")"; then
      started+=("$svc")
    else
      log_tail "$LOGS/$svc.log"
      die "$svc exited right after start (log: .stack/logs/$svc.log)"
    fi
  done
  ok "started: ${started[*]:-none}"

  if [[ -f $PIDS/gateway.pid ]]; then
    local port
    port=$(load_env && echo "${IIB_GATEWAY_PORT:-8080}")
    wait_for 60 "gateway healthcheck http://127.0.0.1:$port/api/v1/healthcheck" \
      http_ok "http://127.0.0.1:$port/api/v1/healthcheck" || {
      log_tail "$LOGS/gateway.log"
      die "the gateway does not answer 200 on http://127.0.0.1:$port/api/v1/healthcheck"
    }
  fi
}

summary() {
  local port
  port=$(load_env && echo "${IIB_GATEWAY_PORT:-8080}")
  cat <<EOF

${B}Stack is up.${N}
  API            http://127.0.0.1:$port/api/v1/   (health: /api/v1/healthcheck)
  PostgreSQL     postgres://postgres@127.0.0.1:5432/iib
  RabbitMQ       amqp://guest:guest@127.0.0.1:5672 (AMQP 1.0), management http://127.0.0.1:15672 (guest/guest)
  ActiveMQ       amqp://127.0.0.1:$ACTIVEMQ_AMQP_PORT (AMQP 1.0), amqps://127.0.0.1:$ACTIVEMQ_AMQPS_PORT (client cert: .stack/activemq/tls), Jolokia $(activemq_jolokia_url)
  Services use   $(load_env && echo "${IIB_BROKER_DIALECT:-?} at ${IIB_AMQP_URLS:-?}")   (IIB_STACK_BROKER=activemq|rabbitmq npm run stack)
  Registry       http://127.0.0.1:$REGISTRY_PORT/v2/ (localhost:$REGISTRY_PORT; alias localhost:$GOLDEN_REGISTRY_PORT)
  Environment    .stack/env
  Logs           .stack/logs/<service>.log   (tail -f .stack/logs/*.log)
  Status         bash scripts/stack.sh status
  Stop           bash scripts/stack.sh down   (add --all to stop the registry too)
EOF
}

# --- commands --------------------------------------------------------------

cmd_up() {
  mkdir -p "$LOGS" "$PIDS"
  exec 9>"$STACK/stack.lock"
  flock -w 600 9 || die "another 'stack.sh up' has held .stack/stack.lock for 10 minutes"
  ensure_node
  ensure_packages
  ensure_postgres
  ensure_rabbitmq
  ensure_activemq
  ensure_registry
  check_tools
  write_env
  build_app
  test_images
  migrate
  start_services
  summary
}

cmd_down() {
  step "stopping services"
  stop_services
  if [[ ${1:-} == --all ]]; then
    stop_pid registry-$GOLDEN_REGISTRY_PORT "$PIDS/registry-$GOLDEN_REGISTRY_PORT.pid" "config-$GOLDEN_REGISTRY_PORT.yml"
    stop_pid registry "$PIDS/registry.pid" "config-$REGISTRY_PORT.yml"
    stop_activemq
    stop_artemis
  fi
  if [[ ${1:-} == --all ]]; then
    ok "services, registry and ActiveMQ stopped (PostgreSQL and RabbitMQ left running)"
  else
    ok "services stopped (registry, ActiveMQ, PostgreSQL and RabbitMQ left running; 'down --all' stops the registry and ActiveMQ)"
  fi
}

cmd_status() {
  local rc=0 svc port
  line() { printf '  %-22s %s\n' "$1" "$2"; }
  echo "${B}infrastructure${N}"
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then line PostgreSQL "up 127.0.0.1:5432"; else
    line PostgreSQL "DOWN"
    rc=1
  fi
  if port_open 5672; then line "RabbitMQ AMQP" "up 127.0.0.1:5672"; else
    line "RabbitMQ AMQP" "DOWN"
    rc=1
  fi
  if http_ok http://guest:guest@127.0.0.1:15672/api/overview; then line "RabbitMQ management" "up http://127.0.0.1:15672"; else
    line "RabbitMQ management" "DOWN"
    rc=1
  fi
  if pid_alive "$PIDS/activemq.pid" "-Diib.stack.broker=$ACTIVEMQ_DIR" && activemq_ready; then
    line "ActiveMQ AMQP" "up 127.0.0.1:$ACTIVEMQ_AMQP_PORT, TLS :$ACTIVEMQ_AMQPS_PORT (pid $(<"$PIDS/activemq.pid"), log .stack/logs/activemq.log)"
    line "ActiveMQ Jolokia" "up $(activemq_jolokia_url)"
  elif port_open "$ACTIVEMQ_AMQP_PORT"; then
    line "ActiveMQ AMQP" "up 127.0.0.1:$ACTIVEMQ_AMQP_PORT (not started by this checkout)"
  else
    line "ActiveMQ AMQP" "DOWN"
    rc=1
  fi
  if pid_alive "$PIDS/artemis.pid" "$ARTEMIS_DIR/instance" && port_open "$ARTEMIS_AMQP_PORT"; then
    line "Artemis AMQP" "up 127.0.0.1:$ARTEMIS_AMQP_PORT (optional; pid $(<"$PIDS/artemis.pid"))"
  fi
  if [[ -f $ENV_FILE ]]; then
    line "services' broker" "$(load_env && echo "${IIB_BROKER_DIALECT:-?} ${IIB_AMQP_URLS:-?}")"
  fi
  for port in "$REGISTRY_PORT" "$GOLDEN_REGISTRY_PORT"; do
    if http_ok "http://127.0.0.1:$port/v2/"; then line "registry :$port" "up http://127.0.0.1:$port/v2/"; else
      line "registry :$port" "DOWN"
      rc=1
    fi
  done
  echo "${B}services${N}"
  for svc in "${SERVICES[@]}"; do
    if pid_alive "$PIDS/$svc.pid" "$(svc_pattern "$svc")"; then
      line "$svc" "running (pid $(<"$PIDS/$svc.pid"), log .stack/logs/$svc.log)"
    else
      line "$svc" "stopped"
      rc=1
    fi
  done
  if [[ -f $ENV_FILE ]]; then
    port=$(load_env && echo "${IIB_GATEWAY_PORT:-8080}")
    if http_ok "http://127.0.0.1:$port/api/v1/healthcheck"; then line healthcheck "200 http://127.0.0.1:$port/api/v1/healthcheck"; else line healthcheck "not answering on :$port"; fi
  fi
  return "$rc"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status ;;
  activemq | artemis)
    mkdir -p "$LOGS" "$PIDS"
    exec 9>"$STACK/stack.lock"
    flock -w 600 9 || die "another 'stack.sh' has held .stack/stack.lock for 10 minutes"
    "ensure_$1"
    ;;
  *)
    echo "usage: bash scripts/stack.sh up | down [--all] | status | activemq | artemis" >&2
    exit 2
    ;;
esac
