# Sourced by scripts/serve and scripts/test: make and use a virtual environment
# in the checkout, so the scripts work with Debian's externally managed
# /usr/bin/python3 (PEP 668) as well as any other Python 3.11+.
#
#   use_venv EXTRA   creates ./.venv if missing, installs the project with EXTRA
#                    when pyproject.toml changed since the last install, and puts
#                    .venv/bin first on PATH. Any failure stops the script.

VENV_DIR="${THEREYET_VENV:-$PWD/.venv}"

say() { printf 'scripts: %s\n' "$*" >&2; }

use_venv() {
    local extra="$1" python="${PYTHON:-python3}"
    if [ ! -x "$VENV_DIR/bin/python" ]; then
        command -v "$python" >/dev/null || { say "no $python on PATH (Python 3.11 or newer is needed)"; exit 1; }
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || { say "$("$python" --version 2>&1) is too old: thereyet needs Python 3.11 or newer"; exit 1; }
        say "creating a virtual environment in $VENV_DIR ($("$python" --version 2>&1))"
        "$python" -m venv "$VENV_DIR" || {
            say "'$python -m venv' failed; on Debian or Ubuntu: apt-get install python3-venv"
            exit 1
        }
    fi
    local stamp="$VENV_DIR/.thereyet-installed-$extra" want
    want="$(cksum < pyproject.toml)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing thereyet[$extra] into $VENV_DIR (the first time takes a minute or two)"
        # Progress goes to the terminal line by line; pip's own exit status decides.
        "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
            -e ".[$extra]" 2>&1 | { grep --line-buffered -v -e 'is ignored' -e '^  Using cached' || true; }
        printf '%s\n' "$want" > "$stamp"
        say "installed"
    fi
    export PATH="$VENV_DIR/bin:$PATH" VIRTUAL_ENV="$VENV_DIR"
}
