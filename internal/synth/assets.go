package synth

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
)

// assetFS holds the pre-encoded loop written by scripts/make-loop.sh.
//
//go:embed assets
var assetFS embed.FS

// manifest mirrors assets/manifest.json.
type manifest struct {
	Generator    string `json:"generator"`
	FFmpeg       string `json:"ffmpeg"`
	ChunkSeconds int    `json:"chunkSeconds"`
	Chunks       int    `json:"chunks"`
	FrameRate    int    `json:"frameRate"`
	AudioRate    int    `json:"audioRate"`
	Renditions   []struct {
		Name      string `json:"name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		VideoKbps int    `json:"videoKbps"`
		AudioKbps int    `json:"audioKbps"`
	} `json:"renditions"`
}

// loop is the whole pre-encoded loop: every rendition, chunk by chunk.
type loop struct {
	frameRate  int
	renditions []*rendition
}

// loadLoop reads and checks the embedded loop.
func loadLoop(fsys fs.FS) (*loop, error) {
	raw, err := fs.ReadFile(fsys, "assets/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("read loop manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode loop manifest: %w", err)
	}
	if m.ChunkSeconds != 1 || m.Chunks < 1 || m.FrameRate < 1 || len(m.Renditions) == 0 {
		return nil, fmt.Errorf("loop manifest: want 1-second chunks, at least one chunk and rendition, got %+v", m)
	}
	l := &loop{frameRate: m.FrameRate}
	for _, mr := range m.Renditions {
		r := &rendition{name: mr.Name, width: mr.Width, height: mr.Height}
		if err := r.load(fsys, path.Join("assets", mr.Name), m.Chunks); err != nil {
			return nil, fmt.Errorf("load rendition %s: %w", mr.Name, err)
		}
		l.renditions = append(l.renditions, r)
	}
	return l, nil
}

// rendition finds a rendition by name.
func (l *loop) rendition(name string) (int, *rendition) {
	for i, r := range l.renditions {
		if r.name == name {
			return i, r
		}
	}
	return -1, nil
}
