package httplang

import (
	"slices"
	"strings"
	"testing"
)

func TestPick(t *testing.T) {
	enfr := []string{"en", "fr"}
	for _, tt := range []struct {
		name, header string
		supported    []string
		want         string
	}{
		{"empty header", "", enfr, "en"},
		{"exact", "fr", enfr, "fr"},
		{"region falls back to language", "fr-CA,en;q=0.5", enfr, "fr"},
		{"weights", "en-GB,fr;q=0.9", enfr, "en"},
		{"unsupported first", "de-DE,fr;q=0.7,en;q=0.3", enfr, "fr"},
		{"none supported", "de", enfr, "en"},
		{"case and spaces", "en;q=0.2, FR ; Q=0.8", enfr, "fr"},
		{"q=0 refuses", "fr;q=0", enfr, "en"},
		{"tie goes to header order", "fr,en", enfr, "fr"},
		{"tie in weights, header order", "en;q=0.5,fr;q=0.5", []string{"fr", "en"}, "en"},
		{"wildcard", "*", []string{"fr", "en"}, "fr"},
		{"wildcard after refusal", "fr;q=0, *;q=0.1", enfr[1:], "fr"},
		{"wildcard, one refused", "en;q=0,*", enfr, "fr"},
		{"most specific range decides", "fr-CA;q=0, fr", []string{"fr-CA", "fr"}, "fr"},
		{"exact beats truncation", "fr-CA;q=0.2, fr;q=0.9, en;q=0.5", enfr, "fr"},
		{"closest tag wins a tie", "fr-CA", []string{"en", "fr", "fr-CA"}, "fr-CA"},
		{"exact tag wins over its region", "fr", []string{"en", "fr-CA", "fr"}, "fr"},
		{"general range matches region tag", "fr;q=0.9,en;q=0.1", []string{"en", "fr-FR"}, "fr-FR"},
		{"prefix must end a subtag", "fra,en;q=0.1", []string{"fr", "en"}, "en"},
		{"malformed q ignored", "fr;q=2,en;q=0.5", []string{"de", "fr", "en"}, "en"},
		{"q with four digits ignored", "fr;q=0.1234", enfr, "en"},
		{"q=1.000", "fr;q=1.000", enfr, "fr"},
		{"q=1.5 ignored", "fr;q=1.5", enfr, "en"},
		{"q with sign ignored", "fr;q=+0.5", enfr, "en"},
		{"other parameters", "fr;level=1;q=0.8,en;q=0.7", enfr, "fr"},
		{"junk", ";q=,,,;", enfr, "en"},
		{"all refused", "en;q=0,fr;q=0", enfr, "en"},
		{"no supported tags", "fr", nil, ""},
		{"keeps the caller's spelling", "FR-ca", []string{"en", "Fr"}, "Fr"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Pick(tt.header, tt.supported...); got != tt.want {
				t.Errorf("Pick(%q, %q) = %q, want %q", tt.header, tt.supported, got, tt.want)
			}
		})
	}
}

func TestPickAllocs(t *testing.T) {
	tags := []string{"en", "fr"}
	n := testing.AllocsPerRun(100, func() {
		Pick("de-DE,de;q=0.9,fr-FR;q=0.8,fr;q=0.7,en;q=0.5", tags...)
	})
	if n != 0 {
		t.Errorf("Pick allocates %v times, want 0", n)
	}
}

// FuzzPick: whatever the header, Pick answers one of the supported tags,
// and a header naming exactly one of them alone picks it.
func FuzzPick(f *testing.F) {
	for _, s := range []string{"fr-CA,fr;q=0.9,en;q=0.8", ";q=,,,;", "*;q=0", "fr;q=0.", "en;q=1.0000", "\x00,-,--;q=1"} {
		f.Add(s)
	}
	supported := []string{"en", "fr", "fr-CA"}
	f.Fuzz(func(t *testing.T, h string) {
		if got := Pick(h, supported...); !slices.Contains(supported, got) {
			t.Errorf("Pick(%q) = %q, not a supported tag", h, got)
		}
		if strings.ContainsAny(h, ",;*") || h == "" {
			return
		}
		for _, tag := range supported {
			if strings.EqualFold(strings.TrimSpace(h), tag) && Pick(h, supported...) != tag {
				t.Errorf("Pick(%q) = %q, want %q", h, Pick(h, supported...), tag)
			}
		}
	})
}

func BenchmarkPick(b *testing.B) {
	tags := []string{"en", "fr"}
	for b.Loop() {
		Pick("de-DE,de;q=0.9,fr-FR;q=0.8,fr;q=0.7,en;q=0.5", tags...)
	}
}
