#!/usr/bin/env bash
# Installs what madoguchi needs on a Debian machine, idempotently and without prompts:
# the Debian packages (only those missing; needs root) and the virtualenv .venv with the project.
# Called by `make demo`, `make test` and `make bench`; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  mosquitto mosquitto-clients            # MQTT broker for server -> displays
  pcscd libpcsclite-dev swig             # PC/SC service; headers and swig to build pyscard
  libusb-1.0-0                           # USB ticket printers (pyusb, for python-escpos usb://)
  vsmartcard-vpcd                        # virtual reader for tests and the demo (never on a real kiosk)
  fonts-noto-cjk fonts-noto-core         # Japanese/Chinese/Korean, Vietnamese, Devanagari fonts
  xvfb xauth                             # a screen for the kiosk and display when there is none
  chromium                               # web page tests (driven by Playwright, no browser download)
  libgl1 libgl1-mesa-dri libmtdev1       # Kivy windows under Xvfb
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# pcscd is socket-activated on a normal system; tests and the demo start their own instances.

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing madoguchi and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[all,dev]"
  touch "$stamp"
fi
