#!/usr/bin/env bash
# Provision the real servers the tests and the demo run against, from registries that an
# offline machine can still reach (Go module proxy, Maven Central, Debian apt):
#
#   - the Temporal CLI (dev server + Web UI), built with `go install` from its Go module;
#   - the Java time-skipping test server (io.temporal:temporal-test-server) resolved with mvn,
#     wrapped in an executable launcher and given a class-data-sharing archive so it answers
#     on its port well inside the 5 s the SDK allows;
#   - redis-server from Debian when it is missing;
#   - chromium from Debian when it is missing (the Web UI browser test drives it via playwright-core);
#   - nginx, redis-sentinel and openssl from Debian when missing (the TLS, ACL and Sentinel tests).
#
# Idempotent: everything is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/temporal-circuit-breaker
# (override with TCB_CACHE_DIR) and a second run only checks the cache. It writes env.sh there,
# exporting TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH; `source` it or let the test helpers
# find the executables at the default location (bin/ in the cache directory).
#
# Inputs (all optional): TCB_TEMPORAL_CLI_VERSION (1.5.1), TCB_TEST_SERVER_VERSION (1.38.0),
# TCB_CACHE_DIR, TCB_FORCE=1 (rebuild everything).
set -euo pipefail

CLI_VERSION="${TCB_TEMPORAL_CLI_VERSION:-1.5.1}"
TS_VERSION="${TCB_TEST_SERVER_VERSION:-1.38.0}"
CACHE_DIR="${TCB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/temporal-circuit-breaker}"
BIN_DIR="$CACHE_DIR/bin"
LOG_DIR="$CACHE_DIR/logs"
ENV_FILE="$CACHE_DIR/env.sh"
FORCE="${TCB_FORCE:-0}"

mkdir -p "$BIN_DIR" "$LOG_DIR"

log() { printf '[provision] %s\n' "$*"; }
die() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { # since <start_ms> -> "1.234s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%03ds' $((d / 1000)) $((d % 1000))
}
have() { command -v "$1" >/dev/null 2>&1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO=(sudo); fi
fi
APT_UPDATED=0
apt_install() {
  have apt-get || die "apt-get not available; install these packages by hand: $*"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@" >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install $* failed (log: $LOG_DIR/apt.log)"; }
}

free_port() {
  if have node; then
    node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  else
    echo $(( 20000 + RANDOM % 30000 ))
  fi
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

TOTAL_START=$(now_ms)
log "cache: $CACHE_DIR"

# --------------------------------------------------------------------------------------------
# 1. redis-server (Debian)
# --------------------------------------------------------------------------------------------
step=$(now_ms)
if have redis-server; then
  log "redis-server: present ($(command -v redis-server)), nothing to do [$(since "$step")]"
else
  apt_install redis-server
  have redis-server || die "redis-server still missing after apt-get install"
  log "redis-server: installed from Debian [$(since "$step")]"
fi
REDIS_SERVER_PATH="$(command -v redis-server)"
REDIS_VERSION="$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"

# chromium (Debian): the browser test's headless browser (never a download)
step=$(now_ms)
if [ -x /usr/bin/chromium ]; then
  log "chromium: present (/usr/bin/chromium), nothing to do [$(since "$step")]"
else
  apt_install chromium
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium still missing after apt-get install chromium"
  log "chromium: installed from Debian [$(since "$step")]"
fi

# nginx, redis-sentinel, openssl (Debian): the secured-server tests (a TLS-terminating gRPC proxy in
# front of the dev server, Redis with TLS and an ACL user, a Sentinel group, test certificates).
for pkg in nginx:nginx redis-sentinel:redis-sentinel openssl:openssl; do
  bin="${pkg%%:*}"; deb="${pkg##*:}"
  step=$(now_ms)
  if have "$bin" || [ -x "/usr/sbin/$bin" ]; then
    log "$bin: present ($(command -v "$bin" || echo "/usr/sbin/$bin")), nothing to do [$(since "$step")]"
  else
    apt_install "$deb"
    have "$bin" || [ -x "/usr/sbin/$bin" ] || die "$bin still missing after apt-get install $deb"
    # Debian starts the packaged services: the tests start their own, on free ports.
    if [ "$deb" = nginx ] || [ "$deb" = redis-sentinel ]; then
      "${SUDO[@]}" systemctl disable --now "$deb" >/dev/null 2>&1 || "${SUDO[@]}" service "$deb" stop >/dev/null 2>&1 || true
    fi
    log "$bin: installed from Debian [$(since "$step")]"
  fi
done

# --------------------------------------------------------------------------------------------
# 2. Temporal CLI (dev server + Web UI) from the Go module proxy
# --------------------------------------------------------------------------------------------
step=$(now_ms)
CLI_DIR="$CACHE_DIR/temporal-cli/$CLI_VERSION"
CLI_PATH="$CLI_DIR/temporal"
cli_ok() { [ -x "$CLI_PATH" ] && "$CLI_PATH" --version 2>/dev/null | grep -q "temporal version $CLI_VERSION "; }
if [ "$FORCE" != 1 ] && cli_ok; then
  log "temporal CLI $CLI_VERSION: cached at $CLI_PATH [$(since "$step")]"
else
  have go || die "Go is required to build the Temporal CLI (go install github.com/temporalio/cli/cmd/temporal@v$CLI_VERSION). Install Go >= 1.23 (https://go.dev/dl), or on a machine with internet skip provisioning: the SDK downloads its own servers."
  log "temporal CLI $CLI_VERSION: building with $(go version | awk '{print $3}') (first build takes a few minutes; log: $LOG_DIR/go-install.log)"
  tmp="$CLI_DIR.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install \
      -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$CLI_VERSION" \
      "github.com/temporalio/cli/cmd/temporal@v$CLI_VERSION" >"$LOG_DIR/go-install.log" 2>&1; then
    tail -30 "$LOG_DIR/go-install.log" >&2
    rm -rf "$tmp"
    die "go install of the Temporal CLI failed (log: $LOG_DIR/go-install.log)"
  fi
  rm -rf "$CLI_DIR" && mv "$tmp" "$CLI_DIR"
  cli_ok || die "built $CLI_PATH but it does not report version $CLI_VERSION"
  log "temporal CLI $CLI_VERSION: built [$(since "$step")]"
fi
ln -sfn "$CLI_PATH" "$BIN_DIR/temporal"
CLI_REPORTED="$("$CLI_PATH" --version)"

# --------------------------------------------------------------------------------------------
# 3. Java time-skipping test server from Maven Central
# --------------------------------------------------------------------------------------------
step=$(now_ms)
TS_DIR="$CACHE_DIR/temporal-test-server/$TS_VERSION"
TS_PATH="$TS_DIR/temporal-test-server"
TS_CP_FILE="$TS_DIR/classpath.txt"
TS_JSA="$TS_DIR/test-server.jsa"
TS_STAMP="$TS_DIR/stamp"
MAIN_CLASS="io.temporal.testserver.TestServer"

if ! have java || ! have mvn; then
  # Debian's default JRE (17 on bookworm) runs the test server; maven resolves it.
  pkgs=()
  have java || pkgs+=(default-jre-headless)
  have mvn || pkgs+=(maven)
  apt_install "${pkgs[@]}"
fi
JAVA_BIN="$(readlink -f "$(command -v java)")"
JAVA_VERSION="$("$JAVA_BIN" -version 2>&1 | head -1)"
STAMP_WANT="version=$TS_VERSION+slf4j-nop java=$JAVA_BIN ($JAVA_VERSION)"

ts_ok() {
  [ -x "$TS_PATH" ] && [ -f "$TS_CP_FILE" ] && [ -f "$TS_STAMP" ] || return 1
  [ "$(cat "$TS_STAMP")" = "$STAMP_WANT" ] || return 1
  local jar
  while IFS= read -r jar; do [ -f "$jar" ] || return 1; done < <(tr ':' '\n' <"$TS_CP_FILE")
}

# start_time_ms <launcher> [env assignments...]: ms until the server answers on its port
start_time_ms() {
  local launcher="$1"; shift
  local port; port="$(free_port)"
  local t0; t0=$(now_ms)
  env "$@" "$launcher" "$port" --enable-time-skipping >"$LOG_DIR/test-server-probe.log" 2>&1 &
  local pid=$!
  local ok=0
  for _ in $(seq 1 500); do
    if port_open "$port"; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  local ms=$(( $(now_ms) - t0 ))
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$ok" = 1 ]; then echo "$ms"; else echo "failed"; fi
}

write_launcher() { # write_launcher <path> <use_cds 0|1>
  local cp; cp="$(cat "$TS_CP_FILE")"
  cat >"$1" <<EOF
#!/bin/sh
# Generated by scripts/provision.sh: Temporal time-skipping test server $TS_VERSION
# (Maven: io.temporal:temporal-test-server:$TS_VERSION, run on $JAVA_VERSION).
# Usage: temporal-test-server <port> [--enable-time-skipping]
# Started by @temporalio/testing as { type: 'existing-path', path: '$TS_PATH' }.
# TCB_TEST_SERVER_CDS=0 disables the class-data-sharing archive (for measurements).
# Flags favour start-up time: C1 only, serial GC, a dynamic CDS archive of the server's classes.
CDS="-XX:SharedArchiveFile=$TS_JSA -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
if [ "\${TCB_TEST_SERVER_CDS:-$2}" = 0 ] || [ ! -f "$TS_JSA" ]; then CDS=""; fi
exec "$JAVA_BIN" \$CDS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss512k \\
  \${TCB_TEST_SERVER_JAVA_OPTS:-} -cp "$cp" $MAIN_CLASS "\$@"
EOF
  chmod +x "$1"
}

if [ "$FORCE" != 1 ] && ts_ok; then
  log "test server $TS_VERSION: cached at $TS_PATH [$(since "$step")]"
else
  mkdir -p "$TS_DIR"
  cat >"$TS_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.temporal-circuit-breaker</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TS_VERSION</version>
    </dependency>
    <!-- binds SLF4J to a no-op logger: silences its "Failed to load StaticLoggerBinder" banner -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "test server $TS_VERSION: resolving io.temporal:temporal-test-server:$TS_VERSION with mvn (log: $LOG_DIR/mvn.log)"
  t=$(now_ms)
  if ! mvn -q -B -f "$TS_DIR/pom.xml" dependency:build-classpath -Dmdep.outputFile="$TS_CP_FILE" \
      >"$LOG_DIR/mvn.log" 2>&1; then
    tail -30 "$LOG_DIR/mvn.log" >&2
    die "mvn could not resolve io.temporal:temporal-test-server:$TS_VERSION (log: $LOG_DIR/mvn.log)"
  fi
  log "  resolved $(tr ':' '\n' <"$TS_CP_FILE" | wc -l) jars [$(since "$t")]"

  rm -f "$TS_JSA" "$TS_STAMP"
  write_launcher "$TS_PATH" 0
  ms_plain="$(start_time_ms "$TS_PATH")"
  [ "$ms_plain" != failed ] || { cat "$LOG_DIR/test-server-probe.log" >&2; die "the test server did not open its port (log above)"; }

  # Class-data sharing: one training run records the classes the server loads to start and to
  # serve a first workflow (through the CLI when it is there); later starts map them directly.
  log "  creating the CDS archive (training run)"
  t=$(now_ms)
  port="$(free_port)"
  TCB_TEST_SERVER_JAVA_OPTS="-XX:ArchiveClassesAtExit=$TS_JSA" "$TS_PATH" "$port" --enable-time-skipping \
    >"$LOG_DIR/test-server-cds.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1000); do port_open "$port" && break; sleep 0.01; done
  if [ -x "$CLI_PATH" ]; then
    "$CLI_PATH" workflow start --address "127.0.0.1:$port" --namespace default --task-queue cds-training \
      --type CdsTraining --workflow-id cds-training >/dev/null 2>&1 || true
    "$CLI_PATH" workflow describe --address "127.0.0.1:$port" --namespace default \
      --workflow-id cds-training >/dev/null 2>&1 || true
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -f "$TS_JSA" ]; then
    log "  CDS archive: $TS_JSA ($(du -h "$TS_JSA" | cut -f1)) [$(since "$t")]"
    write_launcher "$TS_PATH" 1
  else
    log "  WARNING: the JVM wrote no CDS archive (log: $LOG_DIR/test-server-cds.log); starting without it"
  fi
  ms_cds="$(start_time_ms "$TS_PATH")"
  [ "$ms_cds" != failed ] || { cat "$LOG_DIR/test-server-probe.log" >&2; die "the test server did not open its port with CDS (log above)"; }
  # A second pair of measurements, now that the files are in the page cache.
  ms_plain2="$(start_time_ms "$TS_PATH" TCB_TEST_SERVER_CDS=0)"
  ms_cds2="$(start_time_ms "$TS_PATH")"
  log "  start time to open port: without CDS ${ms_plain} ms / ${ms_plain2} ms, with CDS ${ms_cds} ms / ${ms_cds2} ms (SDK limit 5000 ms)"
  printf '%s\n' "without_cds_ms=$ms_plain,$ms_plain2 with_cds_ms=$ms_cds,$ms_cds2" >"$TS_DIR/start-times.txt"
  printf '%s' "$STAMP_WANT" >"$TS_STAMP"
  log "test server $TS_VERSION: provisioned [$(since "$step")]"
fi
ln -sfn "$TS_PATH" "$BIN_DIR/temporal-test-server"

# --------------------------------------------------------------------------------------------
# 4. env file
# --------------------------------------------------------------------------------------------
cat >"$ENV_FILE.tmp" <<EOF
# Generated by scripts/provision.sh (temporal-circuit-breaker). Source it: . "$ENV_FILE"
export TEMPORAL_CLI_PATH="$CLI_PATH"
export TEMPORAL_CLI_VERSION="$CLI_VERSION"
export TEMPORAL_TEST_SERVER_PATH="$TS_PATH"
export TEMPORAL_TEST_SERVER_VERSION="$TS_VERSION"
export REDIS_SERVER_PATH="$REDIS_SERVER_PATH"
EOF
mv "$ENV_FILE.tmp" "$ENV_FILE"

log "done in $(since "$TOTAL_START")"
log "  TEMPORAL_CLI_PATH=$CLI_PATH  ($CLI_REPORTED)"
log "  TEMPORAL_TEST_SERVER_PATH=$TS_PATH  (io.temporal:temporal-test-server:$TS_VERSION, $JAVA_VERSION)"
[ -f "$TS_DIR/start-times.txt" ] && log "  test server start times: $(cat "$TS_DIR/start-times.txt")"
log "  REDIS_SERVER_PATH=$REDIS_SERVER_PATH  (redis $REDIS_VERSION)"
log "  env file: $ENV_FILE   (use: . \"$ENV_FILE\")"
