#!/usr/bin/env bash
# The first hour, measured: from a clean clone of this checkout's HEAD to the first
# HTTP answer of scripts/serve, run as a new user on stock Debian would (Debian's
# /usr/bin/python3 first on PATH, an empty HOME, nothing else in the environment).
# Baseline, in the same run: scripts/serve started again in that clone (installed).
# Usage: bench/first_answer.sh   (needs git, curl and /usr/bin/python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

first_answer() {  # start scripts/serve in the clone; print the seconds to its first answer
    local started="$1" pid
    (cd "$tmp/src" && exec env -i PATH=/usr/bin:/bin HOME="$tmp/home" scripts/serve --port "$port") \
        >>"$tmp/serve.log" 2>&1 &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/health"; do
        kill -0 "$pid" 2>/dev/null || { tail -30 "$tmp/serve.log" >&2; exit 1; }
        sleep 0.2
    done
    python3 -c "import time; print(f'{time.time() - $started:.1f}')"
    kill -INT "$pid"
    wait "$pid" || true
}

start="$(date +%s.%N)"
git clone -q --no-checkout "$root" "$tmp/src"
git -C "$tmp/src" checkout -q "$(git -C "$root" rev-parse HEAD)"
cold="$(first_answer "$start")"
warm="$(first_answer "$(date +%s.%N)")"
echo "clean clone -> first answer: ${cold} s (venv made, packages installed)"
echo "installed   -> first answer: ${warm} s (baseline: scripts/serve again in the same clone)"
python3 -c "print(f'ratio {$cold / $warm:.1f}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); pip: $(grep -c '^Collecting' "$tmp/serve.log") packages collected"
