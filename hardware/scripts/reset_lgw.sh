#!/usr/bin/env bash
# Reset the LoRa concentrator (SX1301 / SX1302 / SX1303 HAT) on a Raspberry Pi
# through libgpiod's gpioset, before lora_pkt_fwd starts (lora-pkt-fwd.service).
#
# Why not sysfs (echo 17 > /sys/class/gpio/export) like the vendor scripts:
# Raspberry Pi OS Bookworm kernels (6.1+) moved the sysfs GPIO base to 512+ and
# the sysfs interface is deprecated, so the classic scripts fail or toggle the
# wrong line. libgpiod finds the line by its name ("GPIO17") on every Pi model,
# including the Pi 5 whose header sits on another gpiochip.
#
# Pins (BCM numbering) come from /etc/lora-pkt-fwd/reset.env, written by
# hardware/install.sh for the chosen board, or from the environment:
#   MAVERICK_LGW_RESET_PIN      concentrator reset          (RAK/Seeed: 17, CoreCell: 23, iC880A: 25)
#   MAVERICK_LGW_POWER_EN_PIN   concentrator power enable   (CoreCell and WM1302: 18; empty if none)
#   MAVERICK_SX1261_RESET_PIN   SX1261 (LBT/spectral scan)  (CoreCell: 22; empty if none)
#
# Usage: reset_lgw.sh start|stop [--dry-run]
set -euo pipefail

ENV_FILE=${MAVERICK_RESET_ENV:-/etc/lora-pkt-fwd/reset.env}
if [[ -r "$ENV_FILE" ]]; then
  # shellcheck source=/dev/null
  source "$ENV_FILE"
fi
RESET_PIN=${MAVERICK_LGW_RESET_PIN:-17}
POWER_EN_PIN=${MAVERICK_LGW_POWER_EN_PIN:-}
SX1261_RESET_PIN=${MAVERICK_SX1261_RESET_PIN:-}

action=${1:-}
dry_run=0
[[ "${2:-}" == "--dry-run" || "${1:-}" == "--dry-run" ]] && dry_run=1
[[ "$action" == "--dry-run" ]] && action=${2:-}

usage() {
  echo "usage: $0 start|stop [--dry-run]" >&2
  exit 2
}

for pin in "$RESET_PIN" $POWER_EN_PIN $SX1261_RESET_PIN; do
  [[ "$pin" =~ ^[0-9]{1,2}$ ]] || { echo "reset_lgw: '$pin' is not a BCM GPIO number (0..53)" >&2; exit 2; }
done

# "gpiochip0 17" for a BCM pin: by line name when gpiofind exists (libgpiod 1.x), else gpiochip0.
locate() {
  local pin=$1 found=""
  if command -v gpiofind >/dev/null 2>&1; then
    found=$(gpiofind "GPIO$pin" 2>/dev/null || true)
  fi
  echo "${found:-gpiochip0 $pin}"
}

# Drive one line; libgpiod 2.x needs -c CHIP and -t0 to return at once.
drive() {
  local pin=$1 value=$2 chip line
  read -r chip line <<<"$(locate "$pin")"
  local cmd
  if gpioset --version 2>/dev/null | grep -q 'v2\.'; then
    cmd=(gpioset -t0 -c "$chip" "$line=$value")
  else
    cmd=(gpioset "$chip" "$line=$value")
  fi
  if ((dry_run)); then
    echo "would run: ${cmd[*]}   # BCM GPIO$pin -> $value"
  else
    "${cmd[@]}"
  fi
}

pause() { ((dry_run)) || sleep 0.1; }

case "$action" in
  start)
    if ((dry_run == 0)) && ! command -v gpioset >/dev/null 2>&1; then
      echo "reset_lgw: gpioset not found: sudo apt-get install gpiod" >&2
      exit 1
    fi
    echo "reset_lgw: resetting the concentrator (reset GPIO$RESET_PIN${POWER_EN_PIN:+, power GPIO$POWER_EN_PIN}${SX1261_RESET_PIN:+, SX1261 GPIO$SX1261_RESET_PIN})"
    if [[ -n "$POWER_EN_PIN" ]]; then drive "$POWER_EN_PIN" 1; pause; fi
    # SX130x reset is active high: pulse 1 then 0 (Semtech reset_lgw.sh, sx1302_hal tools/).
    drive "$RESET_PIN" 1; pause
    drive "$RESET_PIN" 0; pause
    # SX1261 reset is active low.
    if [[ -n "$SX1261_RESET_PIN" ]]; then drive "$SX1261_RESET_PIN" 0; pause; drive "$SX1261_RESET_PIN" 1; pause; fi
    ;;
  stop)
    # Nothing to release: libgpiod holds no line after gpioset returns (sysfs needed unexport).
    echo "reset_lgw: stop (no GPIO line held)"
    ;;
  *)
    usage
    ;;
esac
