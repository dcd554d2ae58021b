#!/usr/bin/env bash
# Installs Maverick on Raspberry Pi OS Bookworm (arm64): Node.js, packages,
# users, the app in /opt/maverick, systemd units, udev rules, the concentrator
# reset script and the packet-forwarder profile for your board.
#
# Idempotent: every step checks first and changes only what differs, so
# running it again is safe and reports "ok" for what is already in place.
#
#   sudo hardware/install.sh --board rak2287 --region eu868
#   hardware/install.sh --board rak2287 --region eu868 --dry-run   # print the plan, change nothing
#
# Boards: rak2287 rak5146 wm1302 corecell (SX1302/SX1303), rak2245 ic880a (SX1301).
# Regions: one per profile in packet-forwarder/ (any case): eu868 us915 au915
# as923-1 as923-2 as923-3 as923-4 in865 kr920 (US915/AU915 use sub-band 2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
APP_DIR=/opt/maverick
DATA_DIR=/var/lib/maverick
FWD_DIR=/etc/lora-pkt-fwd
LIB_DIR=/usr/local/lib/maverick
NODE_MAJOR_MIN=20
PACKAGES=(ca-certificates gpiod rsync build-essential python3 mosquitto-clients)

BOARD=""
REGION=""
DRY_RUN=0
FORCE_FWD_CONF=0

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo "Options: --board B  --region R  --dry-run  --force-forwarder-config  --help"
}

while (($#)); do
  case "$1" in
    --board) BOARD=${2:-}; shift 2 ;;
    --region) REGION=${2:-}; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --force-forwarder-config) FORCE_FWD_CONF=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# BCM pins per board: "reset power_enable sx1261_reset" (vendor reset scripts, see README.md).
board_pins() {
  case "$1" in
    rak2287 | rak5146 | rak2245) echo "17 - -" ;;
    wm1302) echo "17 18 -" ;;
    corecell) echo "23 18 22" ;;
    ic880a) echo "25 - -" ;;
    *) return 1 ;;
  esac
}

# Region names are case-insensitive (EU868, eu868, Eu868); the profiles are named in lower case.
REGION=${REGION,,}
if [[ -n "$BOARD" ]] && ! board_pins "$BOARD" >/dev/null; then
  echo "install.sh: unknown board '$BOARD' (rak2287 rak5146 wm1302 corecell rak2245 ic880a)" >&2
  exit 2
fi
REGION=${REGION,,}
# The regions are the profiles that exist for the board (proto/regions + scripts/forwarder-profiles.mjs).
if [[ -n "$BOARD" && ( -z "$REGION" || ! -f "$HERE/packet-forwarder/$BOARD-$REGION.json" ) ]]; then
  known=$(cd "$HERE/packet-forwarder" && ls "$BOARD"-*.json | sed "s/^$BOARD-//; s/\.json\$//" | tr '\n' ' ')
  echo "install.sh: --board $BOARD needs --region, one of: ${known% }" >&2
  exit 2
fi
if ((DRY_RUN == 0)) && [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (sudo), or add --dry-run to see the plan" >&2
  exit 1
fi

say() { echo "==> $*"; }
okay() { echo "    ok: $*"; }
# Runs a command that changes the system, or prints it in --dry-run.
run() {
  if ((DRY_RUN)); then
    echo "    would run: $*"
  else
    echo "    run: $*"
    "$@"
  fi
}

# Copies SRC to DST with MODE only when the content or mode differs. Returns 0 when it changed something.
install_file() {
  local src=$1 dst=$2 mode=$3
  if [[ -f "$dst" ]] && cmp -s "$src" "$dst" && [[ "$(stat -c %a "$dst")" == "${mode#0}" ]]; then
    okay "$dst"
    return 1
  fi
  run install -D -m "$mode" "$src" "$dst"
  return 0
}

say "system"
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-unknown}")
[[ "$arch" == "arm64" ]] || echo "    note: architecture $arch (this script targets Raspberry Pi OS arm64)"
[[ "$codename" == "bookworm" ]] || echo "    note: release $codename (this script targets Bookworm)"

say "packages"
missing=()
for pkg in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    okay "$pkg"
  else
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  run apt-get update
  run apt-get install -y --no-install-recommends "${missing[@]}"
fi

say "Node.js >= $NODE_MAJOR_MIN"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (($(node_major) >= NODE_MAJOR_MIN)); then
  okay "node $(node --version)"
else
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | cut -d. -f1 | sed 's/^[0-9]*://')
  if [[ "$candidate" =~ ^[0-9]+$ ]] && ((candidate >= NODE_MAJOR_MIN)); then
    run apt-get install -y nodejs npm
  else
    cat <<'NODESOURCE'
    Debian's nodejs is older than 20 (Bookworm ships 18). Install Node 22 LTS from NodeSource:
      curl -fsSL https://deb.nodesource.com/setup_22.x -o /tmp/nodesource_setup.sh
      sudo bash /tmp/nodesource_setup.sh && sudo apt-get install -y nodejs
    then run this script again.
NODESOURCE
    ((DRY_RUN)) || exit 1
  fi
fi

say "users"
ensure_user() {
  local user=$1 groups=$2
  if id -u "$user" >/dev/null 2>&1; then
    okay "user $user"
  else
    run useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  local group
  for group in ${groups//,/ }; do
    if ! getent group "$group" >/dev/null; then
      run groupadd --system "$group"
    fi
    if id -nG "$user" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
      okay "$user in $group"
    else
      run usermod -aG "$group" "$user"
    fi
  done
}
ensure_user maverick dialout
ensure_user lorafwd spi,gpio,dialout

say "application in $APP_DIR"
changes=$(rsync -a --delete --checksum --itemize-changes --dry-run \
  --exclude node_modules --exclude dist --exclude .git --exclude test-results "$SRC/" "$APP_DIR/" 2>/dev/null || echo "new")
if [[ -z "$changes" && -d "$APP_DIR/dist" && -d "$APP_DIR/node_modules" ]]; then
  okay "$APP_DIR is up to date"
else
  run rsync -a --delete --checksum --exclude node_modules --exclude dist --exclude .git --exclude test-results "$SRC/" "$APP_DIR/"
  # npm ci runs the build (prepare); dev dependencies are needed for tsc, then pruned.
  run bash -c "cd $APP_DIR && npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund"
fi
if [[ "$(readlink /usr/local/bin/maverick 2>/dev/null)" == "$APP_DIR/bin/maverick.js" ]]; then
  okay "/usr/local/bin/maverick"
else
  run ln -sfn "$APP_DIR/bin/maverick.js" /usr/local/bin/maverick
fi

say "udev rules"
if install_file "$HERE/udev/99-maverick.rules" /etc/udev/rules.d/99-maverick.rules 0644; then
  run udevadm control --reload
  run udevadm trigger --subsystem-match=tty
fi

say "concentrator reset script and forwarder config"
install_file "$HERE/scripts/reset_lgw.sh" "$LIB_DIR/reset_lgw.sh" 0755 || true
if [[ -n "$BOARD" ]]; then
  read -r reset power sx1261 <<<"$(board_pins "$BOARD")"
  envfile=$(mktemp)
  {
    echo "# written by hardware/install.sh for board $BOARD"
    echo "MAVERICK_LGW_RESET_PIN=$reset"
    echo "MAVERICK_LGW_POWER_EN_PIN=${power/-/}"
    echo "MAVERICK_SX1261_RESET_PIN=${sx1261/-/}"
  } >"$envfile"
  install_file "$envfile" "$FWD_DIR/reset.env" 0644 || true
  rm -f "$envfile"
  profile="$HERE/packet-forwarder/$BOARD-$REGION.json"
  if [[ -f "$FWD_DIR/global_conf.json" && $FORCE_FWD_CONF -eq 0 ]]; then
    okay "$FWD_DIR/global_conf.json kept (--force-forwarder-config replaces it with $BOARD-$REGION)"
  else
    # gateway_ID from the first Ethernet/Wi-Fi MAC, OUI + FFFE + NIC, like `maverick init`.
    mac=$({ cat /sys/class/net/eth0/address /sys/class/net/wlan0/address 2>/dev/null || true; } | head -n1 | tr -d ':')
    eui=$(printf '%s' "${mac:-000000000000}" | sed -E 's/^(.{6})(.{6})$/\1fffe\2/' | tr 'a-f' 'A-F')
    conf=$(mktemp)
    sed "s/\"gateway_ID\": \"0000000000000000\"/\"gateway_ID\": \"$eui\"/" "$profile" >"$conf"
    install_file "$conf" "$FWD_DIR/global_conf.json" 0644 || true
    rm -f "$conf"
  fi
  if [[ ! -e /dev/spidev0.0 ]] && command -v raspi-config >/dev/null; then
    run raspi-config nonint do_spi 0
  fi
fi

say "systemd units"
units_changed=0
for unit in maverick.service lora-pkt-fwd.service; do
  if install_file "$HERE/systemd/$unit" "/etc/systemd/system/$unit" 0644; then units_changed=1; fi
done
((units_changed)) && run systemctl daemon-reload
if [[ -x /usr/local/bin/lora_pkt_fwd ]]; then
  okay "/usr/local/bin/lora_pkt_fwd"
else
  cat <<'FORWARDER'
    lora_pkt_fwd is not installed. Build it once (needs internet):
      SX1302/SX1303: git clone https://github.com/Lora-net/sx1302_hal && cd sx1302_hal && make
                     sudo install -m 0755 packet_forwarder/lora_pkt_fwd /usr/local/bin/
      SX1301:        git clone https://github.com/Lora-net/lora_gateway && git clone https://github.com/Lora-net/packet_forwarder
                     (make lora_gateway, then packet_forwarder) and install lora_pkt_fwd the same way.
FORWARDER
fi
enable_unit() {
  if [[ "$(systemctl is-enabled "$1" 2>/dev/null)" == "enabled" ]]; then
    okay "$1 enabled"
  else
    run systemctl enable "$1"
  fi
}
enable_unit maverick.service
if [[ -n "$BOARD" ]]; then enable_unit lora-pkt-fwd.service; fi

say "data directory $DATA_DIR"
if [[ -f "$DATA_DIR/maverick.toml" ]]; then
  okay "$DATA_DIR already initialised (maverick init is never re-run)"
else
  run install -d -o maverick -g maverick -m 0700 "$DATA_DIR"
  region_flag=()
  [[ -n "$REGION" ]] && region_flag=(--region "${REGION^^}")
  run runuser -u maverick -- /usr/local/bin/maverick init --data-dir "$DATA_DIR" "${region_flag[@]}"
fi

say "done"
echo "    next: sudo systemctl start lora-pkt-fwd maverick && sudo -u maverick maverick doctor --data-dir $DATA_DIR"
