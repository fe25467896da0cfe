#!/usr/bin/env bash
# make-loop.sh encodes the pre-encoded loop that internal/synth re-times into a
# live HLS stream, so that `rempart origin` never needs ffmpeg at run time.
#
# Output (commit-ready, replaced atomically on each run, so the script is
# idempotent): internal/synth/assets/<rendition>/NNN.ts plus manifest.json.
#
# Each rendition is an 8-second loop of a moving test pattern with a clock and
# a 440 Hz tone that beeps every second, as H.264 Constrained Baseline + AAC-LC
# in MPEG-TS, cut into 1-second chunks that each start with a keyframe.
#
# Why 8 seconds: at 48 kHz one AAC frame is 1024 samples, and 8 s is the
# shortest whole-second span holding a whole number of frames (375). Audio and
# video then both last exactly 8 s, so timestamps stay continuous when the
# loop repeats. The audio is taken from the second loop of a 16-second encode
# so the AAC encoder's priming frame is dropped and the waveform wraps cleanly.
#
# Needs ffmpeg >= 5.1 (noise bsf "drop" expression) with libx264 and
# libfreetype (Debian's ffmpeg has both).
set -euo pipefail

LOOP_SECONDS=8
FPS=25
AUDIO_RATE=48000
AAC_FRAMES=$((LOOP_SECONDS * AUDIO_RATE / 1024)) # 375
FONT=${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf}

# name width height video-kbit/s
RENDITIONS=(
	"240p 426 240 300"
	"360p 640 360 700"
	"480p 854 480 1200"
)

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/internal/synth/assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ff() { ffmpeg -hide_banner -nostdin -v error -y "$@"; }

command -v ffmpeg >/dev/null || { echo "make-loop: ffmpeg not found" >&2; exit 1; }
[ -r "$FONT" ] || { echo "make-loop: font $FONT not readable (set FONT=)" >&2; exit 1; }

# Audio: encode two loops, keep frames [N+1, 2N] (frame 0 is encoder priming).
ff -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=$AUDIO_RATE:duration=$((2 * LOOP_SECONDS))" \
	-c:a aac -b:a 64k -ac 2 -flags +bitexact -f adts "$work/two.aac"
ff -i "$work/two.aac" -c copy \
	-bsf:a "noise=drop=lt(n\\,$((AAC_FRAMES + 1)))+gte(n\\,$((2 * AAC_FRAMES + 1)))" \
	-f adts "$work/loop.aac"

out="$work/assets"
mkdir -p "$out"
entries=()
for r in "${RENDITIONS[@]}"; do
	read -r name w h kbps <<<"$r"
	mkdir -p "$out/$name"
	label="rempart $name  %{pts\\:hms}"
	ff -f lavfi -i "testsrc2=size=${w}x${h}:rate=$FPS:duration=$LOOP_SECONDS" \
		-i "$work/loop.aac" \
		-vf "drawtext=fontfile=$FONT:text='$label':x=8:y=h-th-8:fontsize=$((h / 14)):fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4" \
		-map 0:v -map 1:a -c:a copy \
		-c:v libx264 -profile:v baseline -level:v 3.0 -pix_fmt yuv420p -preset medium -threads 1 \
		-b:v "$((kbps * 90 / 100))k" -maxrate "${kbps}k" -bufsize "${kbps}k" \
		-g "$FPS" -keyint_min "$FPS" -sc_threshold 0 -bf 0 -force_key_frames "expr:gte(t,n_forced)" \
		-flags +bitexact -fflags +bitexact \
		-f segment -segment_time 1 -segment_format mpegts -reset_timestamps 0 \
		"$out/$name/%03d.ts"
	n=$(find "$out/$name" -name '*.ts' | wc -l)
	[ "$n" -eq "$LOOP_SECONDS" ] || { echo "make-loop: $name has $n chunks, want $LOOP_SECONDS" >&2; exit 1; }
	entries+=("    {\"name\": \"$name\", \"width\": $w, \"height\": $h, \"videoKbps\": $kbps, \"audioKbps\": 64}")
done

version=$(ffmpeg -version | head -n1)
{
	echo "{"
	echo "  \"generator\": \"scripts/make-loop.sh\","
	echo "  \"ffmpeg\": \"${version//\"/}\","
	echo "  \"chunkSeconds\": 1,"
	echo "  \"chunks\": $LOOP_SECONDS,"
	echo "  \"frameRate\": $FPS,"
	echo "  \"audioRate\": $AUDIO_RATE,"
	echo "  \"renditions\": ["
	for i in "${!entries[@]}"; do
		sep=","
		[ "$i" -eq $((${#entries[@]} - 1)) ] && sep=""
		echo "${entries[$i]}$sep"
	done
	echo "  ]"
	echo "}"
} >"$out/manifest.json"

rm -rf "$dest.new"
cp -r "$out" "$dest.new"
rm -rf "$dest"
mv "$dest.new" "$dest"
du -sh "$dest"
