package rewrite

import (
	"cmp"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/rempart/rempart/internal/hls"
)

// ladderOrder ranks variants: it returns their indices, best first, and
// fills tier with the rung of each (never for audio-only variants beside
// video ones, which come last).
func ladderOrder(vs []*hls.Variant, tier []int) []int {
	order := make([]int, len(vs))
	hasVideo := false
	for i, v := range vs {
		order[i] = i
		hasVideo = hasVideo || !audioOnly(v)
	}
	isRung := func(i int) bool { return !hasVideo || !audioOnly(vs[i]) }
	slices.SortStableFunc(order, func(a, b int) int {
		va, vb := vs[a], vs[b]
		return cmp.Or(boolCmp(isRung(b), isRung(a)), // rungs first
			cmp.Compare(vb.Bandwidth, va.Bandwidth),
			cmp.Compare(vb.Width*vb.Height, va.Width*va.Height))
	})
	t := -1
	var prev *hls.Variant
	for _, i := range order {
		if !isRung(i) {
			tier[i] = never
			continue
		}
		if prev == nil || !sameRung(prev, vs[i]) {
			t++
		}
		tier[i], prev = t, vs[i]
	}
	return order
}

// boolCmp orders false before true.
func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sameRung reports whether two variants are copies of one rendition.
func sameRung(a, b *hls.Variant) bool {
	return a.Bandwidth == b.Bandwidth && a.Width == b.Width && a.Height == b.Height
}

// resolve returns the unescaped, clean path of uri resolved against base,
// and the same as a Location (escaped path and query); "" and "" when uri
// is not local or does not parse.
func resolve(base *url.URL, uri string) (p, target string) {
	uri = strings.TrimSpace(uri)
	if !IsLocal(uri) {
		return "", ""
	}
	ref, err := url.Parse(uri)
	if err != nil {
		return "", ""
	}
	u := base.ResolveReference(ref)
	u.Fragment, u.RawFragment = "", ""
	return path.Clean(u.Path), u.RequestURI()
}

// Codec families: sample entries that one decoder plays. A codec not
// listed is its own family.
var families = map[string]string{
	"avc1": "avc", "avc3": "avc", "hvc1": "hevc", "hev1": "hevc",
	"dvh1": "dvhevc", "dvhe": "dvhevc", "dva1": "dvavc", "dvav": "dvavc",
	"av01": "av1", "dav1": "dvav1", "vp09": "vp9", "vp08": "vp8",
}

// Audio and text sample entries: what is not video in CODECS.
var notVideo = map[string]bool{
	"mp4a": true, "ac-3": true, "ec-3": true, "ac-4": true, "opus": true, "flac": true,
	"alac": true, "mhm1": true, "mha1": true, "dtsc": true, "dtse": true, "dtsh": true,
	"dtsl": true, "dtsx": true, "wvtt": true, "stpp": true,
}

// videoFamily returns the family of the first video codec of a CODECS
// list, "" when it has none.
func videoFamily(codecs string) string {
	for c := range strings.SplitSeq(codecs, ",") {
		entry, _, _ := strings.Cut(strings.TrimSpace(c), ".")
		entry = strings.ToLower(entry)
		if entry == "" || notVideo[entry] {
			continue
		}
		if f, ok := families[entry]; ok {
			return f
		}
		return entry
	}
	return ""
}

// audioOnly reports whether a variant has no video: no RESOLUTION, and
// codecs listed, none of them video.
func audioOnly(v *hls.Variant) bool {
	return v.Width == 0 && v.Height == 0 && strings.TrimSpace(v.Codecs) != "" && videoFamily(v.Codecs) == ""
}

// videoKey returns what a player needs to play a variant's video: codec
// family and VIDEO-RANGE ("hevc/PQ"); "" when CODECS is absent.
func videoKey(v *hls.Variant) string {
	f := videoFamily(v.Codecs)
	if f == "" {
		return ""
	}
	r, ok := v.Attrs.Get("VIDEO-RANGE")
	if !ok {
		r = "SDR"
	}
	return f + "/" + r
}

// baseline is the video every HLS player plays: H.264, SDR.
const baseline = "avc/SDR"
