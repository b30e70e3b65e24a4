#!/usr/bin/env bash
# Makes sure the test infrastructure exists: a reachable Docker engine, the
# local `busybox` test image, and a local image registry holding it.
# Idempotent and quick when everything is there.
#
# When no engine answers and we are root with apt, it installs Debian's
# docker.io and busybox-static and starts dockerd in the background. No outside
# image registry is reachable from the test machines, so the busybox image is
# built locally from the static binary instead of pulled.
#
# The registry is Debian's docker-registry (distribution 2.8) on 127.0.0.1 with
# htpasswd (bcrypt) auth, state in /var/lib/drivetrain-registry; the engine
# pulls from it over plain HTTP because Docker allows 127.0.0.0/8 as an insecure
# registry by default. Its address and credentials are fixed for the tests
# (test/infra/registry.ts holds the same values).
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_root_apt() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "no Docker engine answers and this is not root with apt: start one yourself (DOCKER_HOST is honoured)"
    exit 1
  fi
}

apt_updated=""
apt_install() {
  need_root_apt
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_dockerd() {
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
  need_root_apt
  log "starting dockerd (no bridge network: tasks need no container networking)"
  mkdir -p /var/log
  nohup dockerd --bridge=none --iptables=false >/var/log/drivetrain-dockerd.log 2>&1 &
  for _ in $(seq 1 300); do
    if [ -S /var/run/docker.sock ] && engine_up; then
      log "dockerd is up"
      return 0
    fi
    sleep 0.2
  done
  log "dockerd did not come up within 60 s; see /var/log/drivetrain-dockerd.log"
  tail -n 20 /var/log/drivetrain-dockerd.log >&2 || true
  exit 1
}

build_busybox_image() {
  local bin
  bin=$(command -v busybox 2>/dev/null || true)
  if [ -z "$bin" ] || ! file_is_static "$bin"; then
    [ -x /bin/busybox ] && file_is_static /bin/busybox || apt_install busybox-static
    bin=/bin/busybox
  fi
  local root
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home"
  chmod 1777 "$root/tmp"
  cp "$bin" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - busybox:latest >/dev/null
  log "built local image busybox:latest"
}

# A dynamically linked busybox would not run in an empty root.
file_is_static() {
  ! (ldd "$1" >/dev/null 2>&1)
}

if ! engine_up; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    log "DOCKER_HOST=$DOCKER_HOST does not answer"
    exit 1
  fi
  if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
    for _ in $(seq 1 100); do engine_up && break; sleep 0.2; done
  fi
  engine_up || start_dockerd
fi

if ! docker image inspect busybox:latest >/dev/null 2>&1; then
  build_busybox_image
fi

# The terminal tests drive programs in a tmux pane: the CLI's `drivetrain run -it`
# (test/cli/tty.test.ts), kubectl's `exec -it` and `run -it` against the local cluster.
if ! command -v tmux >/dev/null 2>&1; then
  apt_install tmux
fi

REGISTRY_PORT=${DRIVETRAIN_REGISTRY_PORT:-5000}
REGISTRY="127.0.0.1:$REGISTRY_PORT"
REGISTRY_USER=drivetrain
REGISTRY_PASSWORD=drivetrain-local-registry
REGISTRY_DIR=/var/lib/drivetrain-registry

# HTTP status of a registry request (000 when nothing answers).
registry_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true
}

registry_up() {
  # Ours answers 401 to anonymous requests and 200 to our credentials.
  [ "$(registry_status "http://$REGISTRY/v2/")" = 401 ] &&
    [ "$(registry_status -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "http://$REGISTRY/v2/")" = 200 ]
}

start_registry() {
  command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
  command -v htpasswd >/dev/null 2>&1 || apt_install apache2-utils
  mkdir -p "$REGISTRY_DIR/data"
  # distribution reads only bcrypt entries (-B).
  htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$REGISTRY_PASSWORD" 2>/dev/null
  cat >"$REGISTRY_DIR/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
auth:
  htpasswd:
    realm: drivetrain-local-registry
    path: $REGISTRY_DIR/htpasswd
CONFIG
  log "starting docker-registry on $REGISTRY"
  nohup docker-registry serve "$REGISTRY_DIR/config.yml" >/var/log/drivetrain-registry.log 2>&1 &
  for _ in $(seq 1 100); do
    registry_up && return 0
    sleep 0.1
  done
  log "docker-registry did not come up on $REGISTRY; see /var/log/drivetrain-registry.log"
  tail -n 20 /var/log/drivetrain-registry.log >&2 || true
  exit 1
}

push_busybox() {
  local config
  config=$(mktemp -d)
  trap 'rm -rf "$config"' RETURN
  # A private client config: the login is not left in the user's ~/.docker.
  printf "%s" "$REGISTRY_PASSWORD" | DOCKER_CONFIG=$config docker login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" >/dev/null 2>"$config/login.log" ||
    { cat "$config/login.log" >&2; exit 1; }
  docker tag busybox:latest "$REGISTRY/busybox:latest"
  DOCKER_CONFIG=$config docker push -q "$REGISTRY/busybox:latest" >/dev/null
  # Only the registry keeps it: pods pull it from there.
  docker rmi "$REGISTRY/busybox:latest" >/dev/null
  log "pushed busybox:latest to $REGISTRY"
}

if ! registry_up; then
  if [ "$(id -u)" != 0 ]; then
    log "no drivetrain registry answers on $REGISTRY and this is not root: run this script as root once"
    exit 1
  fi
  start_registry
fi
if [ "$(registry_status -u "$REGISTRY_USER:$REGISTRY_PASSWORD" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/busybox/manifests/latest")" != 200 ]; then
  push_busybox
fi
