package synth

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"time"
)

// Track audio format: mono 16-bit PCM, small enough to keep all tracks in
// memory (about 1 MB per track) yet a real file for Range requests.
const (
	trackRate        = 22050
	trackNoteSeconds = 0.3
)

// tracksModified is the Last-Modified of every track: they are generated,
// identical on every start, so a fixed date keeps validators stable.
var tracksModified = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// track is one on-demand audio file.
type track struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	URL     string  `json:"url"`
	Seconds float64 `json:"durationSeconds"`
	Bytes   int     `json:"bytes"`
	data    []byte
	etag    string
}

// melody is a tune as semitones above A3 (220 Hz); -1 is a rest.
type melody struct {
	id, title string
	notes     []int
	repeats   int
}

var melodies = []melody{
	{"track1", "Ascending Scale", []int{0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2, 0, -1}, 5},
	{"track2", "Broken Chords", []int{0, 4, 7, 12, 7, 4, 5, 9, 12, 17, 12, 9, 7, 11, 14, 19, 14, 11, 0, -1}, 4},
	{"track3", "Pentatonic Walk", []int{0, 3, 5, 7, 10, 12, 10, 7, 5, 3, 12, 15, 17, 15, 12, -1, -1}, 5},
}

// newTracks generates every track.
func newTracks() []*track {
	out := make([]*track, 0, len(melodies))
	for _, m := range melodies {
		pcm := m.render()
		data := wavFile(pcm, trackRate)
		h := fnv.New64a()
		h.Write(data)
		out = append(out, &track{
			ID: m.id, Title: m.title, URL: "/ondemand/" + m.id + ".wav",
			Seconds: float64(len(pcm)) / trackRate, Bytes: len(data),
			data: data, etag: fmt.Sprintf(`"%x"`, h.Sum64()),
		})
	}
	return out
}

// render returns the melody's samples: each note a sine with its second
// harmonic, shaped by a short attack and a decay so notes do not click.
func (m melody) render() []int16 {
	per := int(trackNoteSeconds * trackRate)
	pcm := make([]int16, 0, per*len(m.notes)*m.repeats)
	for range m.repeats {
		for _, n := range m.notes {
			freq := 220 * math.Pow(2, float64(n)/12)
			for i := range per {
				v := 0.0
				if n >= 0 {
					t := float64(i) / trackRate
					env := math.Min(1, float64(i)/(0.01*trackRate)) * math.Exp(-3*t)
					v = env * (0.8*math.Sin(2*math.Pi*freq*t) + 0.2*math.Sin(4*math.Pi*freq*t))
				}
				pcm = append(pcm, int16(v*0.5*math.MaxInt16))
			}
		}
	}
	return pcm
}

// wavFile wraps mono 16-bit samples in a RIFF/WAVE header.
func wavFile(pcm []int16, rate int) []byte {
	dataLen := 2 * len(pcm)
	b := make([]byte, 44, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)  // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2)) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)              // block align
	binary.LittleEndian.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}
