#!/usr/bin/env bash
# Installs the Debian packages zkfs needs to build, run and test, if any is
# missing.  Safe to run repeatedly; prints nothing when all is present.
#   --bench  also what `make bench` and tools/bench/profile_server.py need: the
#            official C client's headers (bin/zkload), gnuplot for the plots,
#            perf, strace and valgrind for the profiles.
set -euo pipefail
PKGS=(build-essential pkg-config libglib2.0-dev libcmocka-dev libfuse3-dev libssl-dev fuse3
      libmicrohttpd-dev libjson-glib-dev   # the AdminServer (server/admin_http.c)
      python3-prometheus-client prometheus   # test_metrics: the exposition-format parser, a real scrape
      python3 python3-kazoo zookeeper zookeeper-bin inotify-tools netcat-openbsd
      attr procps iproute2 psmisc libslf4j-java libcurator-framework-java libcurator-recipes-java libcurator-client-java golang-go golang-github-samuel-go-zookeeper-dev python3-zookeeper
      default-jdk-headless libzookeeper-java util-linux coreutils rsync git man-db
      clang libclang-rt-14-dev     # make fuzz / fuzz-smoke: libFuzzer with ASan+UBSan
      dpkg-dev systemd    # make deb (dpkg-shlibdeps, dpkg-gencontrol); systemd-analyze verify of the units
      nftables iptables libnetfilter-queue-dev)   # make chaos / test_chaos: netns faults, the packet delayer
if [ "${1:-}" = --bench ]; then
  PKGS+=(libzookeeper-mt-dev gnuplot-nox linux-perf strace valgrind)
fi
# One dpkg-query for all of them (one per package took seconds on a
# loaded machine); a package it does not list as installed is missing.
# (dpkg-query exits 1 when a package was never installed: not an error here.)
installed=" $({ dpkg-query -W -f='${Package}=${Status}\n' "${PKGS[@]}" 2>/dev/null || true; } |
              sed -n 's/=install ok installed$//p' | tr '\n' ' ') "
missing=()
for p in "${PKGS[@]}"; do
  case "$installed" in *" $p "*) ;; *) missing+=("$p") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
