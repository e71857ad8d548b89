#!/bin/sh
# Regenerates the transcription test set: each line of sentences.txt spoken by espeak-ng
# (even lines) or flite (odd lines), resampled to 8 kHz and stored as G.711 µ-law WAV —
# the audio a real call carries. The files are committed; run this only to change the set.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
i=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  n=$(printf '%02d' "$i")
  if [ $((i % 2)) -eq 0 ]; then
    espeak-ng -s 160 -w "$tmp/$n.wav" "$line"
  else
    flite -t "$line" -o "$tmp/$n.wav"
  fi
  # Leading and trailing silence trimmed: it would only inflate the files.
  sox "$tmp/$n.wav" -r 8000 -c 1 -e u-law -b 8 "testset/$n.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
  i=$((i + 1))
done < sentences.txt
