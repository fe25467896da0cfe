package prerender

import (
	"strings"
	"testing"
)

func TestSplitAndWrite(t *testing.T) {
	sent := []string{"XAx", "XBx"}
	p, err := Split(`<p title="XBx">XAx and XAx</p>`, sent)
	if err != nil {
		t.Fatal(err)
	}
	vals := []string{"<a>", `"b"`}
	var raw, esc strings.Builder
	p.Write(&raw, vals, nil)
	p.Write(&esc, vals, strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;"))
	if want := `<p title=""b""><a> and <a></p>`; raw.String() != want {
		t.Errorf("raw: %q, want %q", raw.String(), want)
	}
	if want := `<p title="&#34;b&#34;">&lt;a&gt; and &lt;a&gt;</p>`; esc.String() != want {
		t.Errorf("escaped: %q, want %q", esc.String(), want)
	}
	if p.Len(vals) != raw.Len() {
		t.Errorf("Len %d, written %d", p.Len(vals), raw.Len())
	}
}

func TestSplitNamesAMissingField(t *testing.T) {
	_, err := Split("XAx twice XAx", []string{"XAx", "XBx"})
	if err == nil || !strings.Contains(err.Error(), "XBx") {
		t.Fatalf("a page without XBx: %v", err)
	}
}
