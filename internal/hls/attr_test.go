package hls

import (
	"reflect"
	"testing"
)

func TestParseAttrs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Attrs
		err  bool
	}{
		{in: "BANDWIDTH=1280000", want: Attrs{{"BANDWIDTH", "1280000", false}}},
		{in: `BANDWIDTH=1,CODECS="avc1.42e01e,mp4a.40.2",RESOLUTION=640x360`,
			want: Attrs{{"BANDWIDTH", "1", false}, {"CODECS", "avc1.42e01e,mp4a.40.2", true}, {"RESOLUTION", "640x360", false}}},
		{in: `A="",B=x`, want: Attrs{{"A", "", true}, {"B", "x", false}}},
		{in: `A=1, B=2`, want: Attrs{{"A", "1", false}, {"B", "2", false}}},
		{in: "", want: nil},
		{in: `A=1,`, err: true},
		{in: `A=1,A=2`, err: true},
		{in: `a=1`, err: true},
		{in: `A=`, err: true},
		{in: `A="unterminated`, err: true},
		{in: `A="x"y`, err: true},
		{in: `A=x y`, err: true},
		{in: `=1`, err: true},
		{in: `A`, err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAttrs(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseNumbers(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"6", true}, {"6.006", true}, {"10.", true},
		{"", false}, {"-1", false}, {"1e3", false}, {"+1", false}, {"inf", false}, {"NaN", false},
		{".5", false}, {"0x10", false}, {"1_000", false}, {"1.2.3", false},
	} {
		_, err := parseDecimalFloat(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseDecimalFloat(%q) err = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
	if _, err := parseDecimalInt("99999999999999999999"); err == nil {
		t.Error("parseDecimalInt accepted a 20-digit number")
	}
	if w, h, err := parseResolution("1920x1080"); err != nil || w != 1920 || h != 1080 {
		t.Errorf("parseResolution = %d, %d, %v", w, h, err)
	}
	for _, bad := range []string{"1920", "x1080", "1920x", "1920X1080", "-1x2"} {
		if _, _, err := parseResolution(bad); err == nil {
			t.Errorf("parseResolution(%q) accepted", bad)
		}
	}
}

func TestIndexAttr(t *testing.T) {
	for _, tc := range []struct {
		in, name string
		want     string
		at       int // -1: absent
		err      bool
	}{
		{in: `TYPE=PART,URI="part.mp4"`, name: "URI", want: "part.mp4", at: 15},
		{in: `URI="a,b",LAST-MSN=3`, name: "URI", want: "a,b", at: 5},
		{in: `URI=plain`, name: "URI", want: "plain", at: 4},
		{in: `A=1, URI=""`, name: "URI", want: "", at: 10},
		{in: `A=1,B="URI=x"`, name: "URI", at: -1},
		{in: ``, name: "URI", at: -1},
		{in: `URI="a",URI="b"`, name: "URI", err: true},
		{in: `URI="a",`, name: "URI", err: true},
		{in: `A=1 URI="a"`, name: "URI", err: true},
		{in: `URI="open`, name: "URI", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			a, at, err := IndexAttr(tc.in, tc.name)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if at != tc.at || a.Value != tc.want {
				t.Fatalf("IndexAttr = %+v at %d, want %q at %d", a, at, tc.want, tc.at)
			}
			if at >= 0 && tc.in[at:at+len(a.Value)] != a.Value {
				t.Errorf("span %q does not hold the value %q", tc.in[at:at+len(a.Value)], a.Value)
			}
		})
	}
}

func TestIndexAttrAllocs(t *testing.T) {
	s := `DURATION=0.33334,URI="filePart267.1.mp4",INDEPENDENT=YES`
	if n := testing.AllocsPerRun(100, func() { _, _, _ = IndexAttr(s, "URI") }); n != 0 {
		t.Errorf("IndexAttr allocates %v times", n)
	}
}
