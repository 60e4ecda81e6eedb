#!/usr/bin/env bash
# Installs what madoguchi needs on a Debian machine, idempotently and without prompts:
# the Debian packages (only those missing; needs root) and the virtualenv .venv with the project.
# Called by `make demo`, `make test` and `make bench`; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  mosquitto mosquitto-clients            # MQTT broker for server -> displays
  curl jq                                # the requests of docs/walkthrough.md (and its test)
  pcscd libpcsclite-dev swig             # PC/SC service; headers and swig to build pyscard
  libusb-1.0-0                           # USB ticket printers (pyusb, for python-escpos usb://)
  vsmartcard-vpcd                        # virtual reader for tests and the demo (never on a real kiosk)
  fonts-noto-cjk fonts-noto-core         # Japanese/Chinese/Korean, Vietnamese, Devanagari fonts
  xvfb xauth                             # a screen for the kiosk and display when there is none
  chromium                               # web page tests (driven by Playwright, no browser download)
  poppler-utils                          # pdftotext: the printed 住民異動届's text (tests/web)
  systemd                                # systemd-analyze: the units in config/systemd check clean (tests/e2e)
  libgl1 libgl1-mesa-dri libmtdev1       # Kivy windows under Xvfb
  open-jtalk open-jtalk-mecab-naist-jdic # display: Japanese speech, offline (DESIGN §7b)
  hts-voice-nitech-jp-atr503-m001        # display: Open JTalk's voice (Debian contrib, enabled below)
  espeak-ng                              # display: speech in English and the other languages
  fonts-morisawa-bizud-gothic            # display: universal-design Japanese typeface (DESIGN §12)
)

# The HTS voice is in Debian's contrib section, which a default machine's sources do not list.
# Add it once, in a file of our own, unless some source already lists contrib.
enable_contrib() {
  local list=/etc/apt/sources.list.d/madoguchi-contrib.sources codename
  if grep -rqsE '^(Components:.*[[:space:]]contrib([[:space:]]|$)|deb[[:space:]].*[[:space:]]contrib([[:space:]]|$))' \
      /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  echo "bootstrap: enabling Debian contrib in $list (for hts-voice-nitech-jp-atr503-m001)"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$codename" "$codename" >"$list"
}

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
  enable_contrib
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
# constraints.txt pins every package to the version the tests ran with (scripts/freeze-constraints.sh
# makes it; see there how to refresh it). A package not listed yet is installed at its newest version.
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "bootstrap: installing madoguchi and its dependencies into .venv (versions from constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  if ! .venv/bin/python -m pip install -q -c constraints.txt -e ".[all,dev]"; then
    echo "bootstrap: the versions pinned in constraints.txt do not fit pyproject.toml's requirements:" \
         "refresh them (scripts/freeze-constraints.sh, see its header) and commit both" >&2
    exit 1
  fi
  touch "$stamp"
fi
