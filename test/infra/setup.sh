#!/usr/bin/env bash
# Makes sure the test infrastructure exists: a reachable Docker engine and the
# local `busybox` test image. Idempotent and quick when everything is there.
#
# When no engine answers and we are root with apt, it installs Debian's
# docker.io and busybox-static and starts dockerd in the background. No image
# registry is reachable from the test machines, so the busybox image is built
# locally from the static binary instead of pulled.
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
