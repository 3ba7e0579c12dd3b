#!/usr/bin/env bash
# Installs what the appliance needs to build, run and test, from Debian 12's repositories and
# npm; installs nothing that is already there (safe to run again).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libgdal-dev libpqxx-dev libpq-dev libboost-test-dev libboost-program-options-dev libssl-dev
  nlohmann-json3-dev
  # ng911-esrp's allocator (NG911_JEMALLOC)
  libjemalloc-dev
  # ESRP policy rules: local time in IANA time zones (GCC 12 has no std::chrono::tzdb)
  libcctz-dev tzdata
  # database
  postgresql-15 postgresql-15-postgis-3 postgis postgresql-client-15
  # GIS tools (ogr2ogr prepares sample data; tests convert formats with it), XML checks
  gdal-bin libxml2-utils python3 curl
  # test certificates for SIP over TLS and HTTPS
  openssl
  # LoST server: XML; fuzzing (clang, libFuzzer); interop peers and load generator
  libpugixml-dev clang libclang-rt-14-dev kamailio kamailio-utils-modules sip-tester wrk baresip-core
  # a DNS server on loopback for the RFC 3263 tests (NAPTR, SRV); the binary only, no service
  dnsmasq-base
)
# Each part that needs more lists its packages in scripts/deps/PART.packages (# starts a comment).
for list in "$NG911_ROOT"/scripts/deps/*.packages; do
  [ -e "$list" ] || continue
  read -r -a more <<< "$(sed -e 's/#.*//' "$list" | tr '\n' ' ')"
  packages+=("${more[@]}")
done
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "deps: installing ${missing[*]}"
  # Debian's postgresql package would create and start a cluster of its own on 5432; ours is
  # project-local, so ask for none.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages of each part that has a lockfile (sample data, the PSAP console), installed again
# only when the lockfile changed.
for dir in "$NG911_ROOT/scripts/sample-data" "$NG911_ROOT/psap-ui/console"; do
  [ -f "$dir/package-lock.json" ] || continue
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "deps: installing npm packages in ${dir#"$NG911_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
