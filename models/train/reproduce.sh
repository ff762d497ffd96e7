#!/usr/bin/env bash
# Reproduces models/tiny-cobra from nothing on a 2-core CPU machine: the simulator's VQA export,
# then the three training stages (under 2 hours of training together):
#   1. train.py, 50 min: answers and the progress head on short windows, full encoding, the
#      question after the frame (twice as many samples per minute as stage 2: vision and answers);
#   2. train.py --init --reread-image, 50 min: the same with the frame's tokens read again after
#      the question (config reread_image), which relations between two named objects need;
#   3. train.py --init --c2f-prob 0.5, 10 min: coarse-to-fine keep scores and merge token;
#   4. fit_progress_head.py, ~2 min: the progress head on whole-episode stream states.
# Usage: models/train/reproduce.sh [WORK_DIR] [THREADS]   (default /tmp/tiny-cobra, 2 threads)
# The shipped model was trained with THREADS=1 while the second core did other work.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/tiny-cobra}"
threads="${2:-2}"
py=/usr/bin/python3
mkdir -p "$work"
cd "$here"
[ -f dist/nodes/cli/main.js ] || npm run build
if [ ! -f "$work/data/meta.json" ]; then
  rm -rf "$work/data"
  node dist/nodes/cli/main.js export vqa --sim --scenes 5000 --seed 0 --episodes 200 --episode-stride 2 --out "$work/data" --json
fi
"$py" models/train/train.py --data "$work/data" --out "$work/stage1" --minutes 50 --threads "$threads" \
  --lr 1.5e-3 --warmup 200 --eval-every 600 --eval-size 128
"$py" models/train/train.py --data "$work/data" --init "$work/stage1/model" --reread-image --out "$work/stage2" \
  --minutes 50 --threads "$threads" --lr 1e-3 --warmup 100 --eval-every 400 --eval-size 128
"$py" models/train/train.py --data "$work/data" --init "$work/stage2/model" --out "$work/stage3" --minutes 10 \
  --threads "$threads" --c2f-prob 0.5 --lr 5e-4 --warmup 50 --progress-every 1000000 --eval-every 300 --eval-size 128
"$py" models/train/fit_progress_head.py --model "$work/stage3/model" --data "$work/data" --out "$work/model" --threads "$threads"
echo "model: $work/model (curves: $work/stage1/curve.png, $work/stage2/curve.png, $work/stage3/curve.png)"
