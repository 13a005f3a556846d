# Shared by scripts/test and scripts/demo: system packages and the project virtualenv.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VMS_TRAY_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_apt PKG...: install missing Debian packages when root; otherwise print the exact
# apt-get line a user needs and stop.
ensure_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        printf 'These Debian packages are needed and missing. Install them as root (or with sudo),\n' >&2
        printf 'then run this again:\n\n' >&2
        printf '    apt-get install -y %s\n\n' "${missing[*]}" >&2
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_python: a Python >= 3.11 with venv and tkinter.
ensure_python() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$("$PYTHON" -V) is too old: vms-tray needs Python 3.11 or newer"
}

# venv_pip ARGS...: pip of the virtualenv. setuptools builds the editable install of this flat
# layout (vms_tray/ next to pyproject.toml) with an import finder and then emits an
# InformationOnly warning, "Editable installation. Please be careful with folders in your
# working directory with the same name as your package", which recent pip relays from the build
# backend as a BuildBackendWarning block even with -q. The folder it warns about is the package itself, so
# the note is moot here; the filter drops exactly that message (a UserWarning whose text begins
# "Editable installation"), in the build backend and in pip alike, and nothing else.
venv_pip() {
    PYTHONWARNINGS="ignore:Editable installation:UserWarning${PYTHONWARNINGS:+,$PYTHONWARNINGS}" \
        "$VENV/bin/python" -m pip "$@"
}

# ensure_venv EXTRAS: create .venv and install the project editable, only when pyproject changed.
ensure_venv() {
    local extras=$1 stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv $VENV"
        "$PYTHON" -m venv "$VENV" || die "could not create a virtualenv (Debian: apt-get install python3-venv)"
    fi
    stamp=$VENV/.vms-tray-installed
    want="$extras $(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing vms-tray and its Python dependencies into $VENV"
        venv_pip install -q --upgrade pip
        venv_pip install -q -e "$ROOT[$extras]"
        echo "$want" > "$stamp"
    fi
    "$VENV/bin/python" -c 'import tkinter' 2>/dev/null \
        || die "this Python has no tkinter (Debian: apt-get install python3-tk)"
}

# Packages the app needs to run with a tray icon on Linux (GTK/AppIndicator backends, PyGObject build).
RUNTIME_PACKAGES=(python3-venv python3-tk python3-dev gcc libgirepository1.0-dev libcairo2-dev pkg-config
    gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 gnome-keyring dbus xdg-utils x11-xserver-utils
    fonts-dejavu-core)
# Plus what the test suite drives: a virtual X server, tray host, notification daemon, keyring,
# xdotool/ImageMagick for input and screenshots, the autostart validators, an HTTP proxy, and a
# StatusNotifierItem host (gtk-sni-tray-standalone: what KDE and GNOME's extension speak).
# scripts/build-deb and its test: Debian's packaging tools and a fresh Debian 12 root (debootstrap).
TEST_PACKAGES=("${RUNTIME_PACKAGES[@]}" xvfb trayer dunst dbus-x11 libnotify-bin xdotool x11-utils
    imagemagick desktop-file-utils systemd gettext tinyproxy haskell-gtk-sni-tray-utils
    debootstrap dpkg-dev lintian help2man)
