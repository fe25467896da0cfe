package edge_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/evidence"
	"github.com/rempart/rempart/internal/testkit"
)

// TestEvidenceOfRefusals: requests the edge refuses are sampled into the
// hash-chained evidence log, which verifies with the key the edge wrote
// beside it, and against the head its admin API publishes.
func TestEvidenceOfRefusals(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 10))
	cfg := quick(t, o.URL)
	cfg.Sites[0].Hosts = []string{"live.example"}
	dir := t.TempDir()
	cfg.Shield.Evidence.Dir, cfg.Shield.Evidence.SampleRate, cfg.Shield.Evidence.PerSecond = dir, 1, 1000
	e := startEdge(t, cfg, edge.Options{})
	for range 20 {
		testkit.RawStatus(t, e.Addr(), "GET /live/a.ts HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: bot/1\r\n\r\n")
	}
	keys, err := evidence.LoadKeys(dir + ".key")
	if err != nil {
		t.Fatal(err)
	}
	var rep evidence.Report
	var head evidence.Head
	eventually(t, 5*time.Second, func() bool {
		_, body, _ := get(t, http.DefaultClient, "http://"+e.AdminAddr()+"/api/evidence/head")
		h, err := evidence.ParseHead([]byte(body))
		if err != nil || h.Seq < 20 {
			return false
		}
		head = h
		rep, err = evidence.Verify(dir, evidence.VerifyOptions{Keys: keys, Head: &head})
		return err == nil && rep.Requests >= 20
	}, "20 verified evidence entries, published as the head")
	if rep.First != nil || rep.Published == "" {
		t.Fatalf("chain broken: %+v (head %+v: %q)", rep.First, head, rep.Published)
	}
}

// TestBlockThroughAdminAPI: an operator's block refuses the address at
// once with 403 and lists with its reason; unblocking lets it through.
func TestBlockThroughAdminAPI(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 10))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	admin := "http://" + e.AdminAddr()
	post := func(body string) int {
		resp, err := http.Post(admin+"/api/blocks", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"prefix":"127.0.0.1","ttl":"1m","reason":"test"}`); code/100 != 2 {
		t.Fatalf("POST /api/blocks: %d", code)
	}
	if code, _, _ := get(t, http.DefaultClient, "http://"+e.Addr()+"/live/a/1.ts"); code != 403 {
		t.Fatalf("blocked address got %d, want 403", code)
	}
	_, body, _ := get(t, http.DefaultClient, admin+"/api/blocks")
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(body), &blocks); err != nil || len(blocks) != 1 || blocks[0]["reason"] != "test" {
		t.Fatalf("GET /api/blocks = %s (%v)", body, err)
	}
	if code := post(`{"prefix":"127.0.0.1","bogus":1}`); code != 400 {
		t.Fatalf("unknown field accepted: %d", code)
	}
	req, _ := http.NewRequest("DELETE", admin+"/api/blocks?prefix=127.0.0.1/32", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _, _ := get(t, http.DefaultClient, "http://"+e.Addr()+"/live/a/1.ts"); code != 200 {
		t.Fatalf("unblocked address got %d, want 200", code)
	}
	m := scrape(t, e)
	if l := metricLine(m, `rempart_shield_refused_total{reason="blocked"}`); !strings.HasSuffix(l, " 1") {
		t.Errorf("metric %q, want 1 blocked", l)
	}
}
