package viewer

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

func TestJudge(t *testing.T) {
	now := time.Unix(1000, 0)
	queued := `{"status":"queued","ticket":"tk","number":1234,"position":57,"wait":42,"retry_after":3.2,"status_url":"/_rempart/queue"}`
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		admitted   string
		body       string
		kind       answerKind
		retry      time.Duration // as told, clamped, before jitter
		seq        int64
	}{
		{"queued JSON, fraction wins over header", 503, "3", "", queued, answerQueued, 3200 * time.Millisecond, 0},
		{"queued JSON without retry_after", 503, "4", "", `{"status":"queued","ticket":"tk"}`, answerQueued, 4 * time.Second, 0},
		{"queued JSON alone", 503, "", "", `{"status":"queued"}`, answerQueued, defaultQueueWait, 0},
		{"prequeue", 503, "", "", `{"status":"prequeue","opens_in":30,"retry_after":5}`, answerQueued, 5 * time.Second, 0},
		{"bare ticket (older targets)", 503, "", "", `{"ticket":"x","retry_after":2}`, answerQueued, 2 * time.Second, 0},
		{"retry-after seconds", 503, "3", "", "", answerQueued, 3 * time.Second, 0},
		{"retry-after date", 503, now.Add(10 * time.Second).UTC().Format(http.TimeFormat), "", "", answerQueued, 10 * time.Second, 0},
		{"zero is clamped", 503, "0", "", "", answerQueued, minQueueWait, 0},
		{"huge JSON retry_after ignored", 503, "7", "", `{"status":"queued","retry_after":1e12}`, answerQueued, 7 * time.Second, 0},
		{"limited JSON", 429, "2", "", `{"status":"limited","retry_after":1.5}`, answerLimited, 1500 * time.Millisecond, 0},
		{"429 with retry-after", 429, "2", "", "", answerLimited, 2 * time.Second, 0},
		{"refused", 403, "", "", `{"status":"refused","reason":"ticket_used"}`, answerRefused, 0, 0},
		{"403 without JSON", 403, "", "", "forbidden", answerOther, 0, 0},
		{"403 other JSON", 403, "", "", `{"error":"nope"}`, answerOther, 0, 0},
		{"plain 503", 503, "", "", "overloaded", answerOther, 0, 0},
		{"200 with retry-after", 200, "3", "", "", answerOther, 0, 0},
		{"admitted header", 200, "", "17", "", answerOther, 0, 17},
		{"admitted header, spaces", 200, "", " 18 ", "", answerOther, 0, 18},
		{"admitted header, junk", 200, "", "x", "", answerOther, 0, 0},
		{"admitted JSON", 200, "", "", `{"status":"admitted","session":"s","admitted":9}`, answerOther, 0, 9},
		{"broken JSON", 503, "1", "", `{"status":"queued"`, answerQueued, time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.retryAfter != "" {
				h.Set("Retry-After", tc.retryAfter)
			}
			if tc.admitted != "" {
				h.Set(admittedHeader, tc.admitted)
			}
			vd := judge(response{status: tc.status, header: h, body: []byte(tc.body)}, now)
			if vd.kind != tc.kind || vd.retry != tc.retry || vd.seq != tc.seq {
				t.Errorf("judge = kind %d retry %v seq %d; want kind %d retry %v seq %d", vd.kind, vd.retry, vd.seq, tc.kind, tc.retry, tc.seq)
			}
		})
	}
	vd := judge(response{status: 503, header: http.Header{}, body: []byte(queued)}, now)
	if w, ok := vd.qa.displayedWait(); !ok || w != 42*time.Second || vd.qa.Number != 1234 || vd.qa.Position != 57 {
		t.Errorf("queued answer read as %+v (wait %v %v)", vd.qa, w, ok)
	}
	for body, want := range map[string]string{
		`{"status":"refused","reason":"Session_Ended"}`:                   "session_ended",
		`{"status":"refused","reason":"` + strings.Repeat("x", 99) + `"}`: "other",
		`{"status":"refused","reason":"a b"}`:                             "other",
	} {
		vd := judge(response{status: 403, header: http.Header{}, body: []byte(body)}, now)
		if got := vd.qa.reason(); got != want {
			t.Errorf("reason of %s = %q, want %q", body, got, want)
		}
	}
}

func TestJitter(t *testing.T) {
	if d := jittered(4*time.Second, 0); d != 4*time.Second {
		t.Errorf("jittered(4s, 0) = %v", d)
	}
	if d := jittered(4*time.Second, 0.999); d < 4*time.Second || d > 5*time.Second {
		t.Errorf("jittered(4s, ~1) = %v, want at most a quarter more", d)
	}
}

// TestCredentials: tickets and sessions come from headers or JSON and go
// back in headers; a refusal drops what it names; admission drops the
// ticket header.
func TestCredentials(t *testing.T) {
	now := time.Unix(1000, 0)
	cl := &client{}
	cl.keepCredentials(http.Header{ticketHeader: {"t-1"}})
	qa, _ := decodeAnswer([]byte(`{"status":"queued","ticket":"t-2\r\nX: y"}`))
	cl.keepAnswer(&qa) // unsafe: ignored
	if cl.ticket != "t-1" {
		t.Errorf("ticket %q, want t-1", cl.ticket)
	}
	cl.jar.set(&http.Response{Header: http.Header{"Set-Cookie": {"rempart_ticket=c1", "rempart_session=c2", "other=x"}}}, now)
	cl.forget("ticket_used")
	if cl.ticket != "" || cl.jar.has(ticketCookie) || !cl.jar.has(sessionCookie) {
		t.Errorf("after ticket_used: ticket %q, cookies %q", cl.ticket, cl.jar.header(now))
	}
	qa, _ = decodeAnswer([]byte(`{"status":"admitted","session":"s-1","admitted":3}`))
	cl.keepAnswer(&qa)
	cl.keepCredentials(http.Header{ticketHeader: {"t-3"}})
	cl.admitted()
	if cl.session != "s-1" || cl.ticket != "" {
		t.Errorf("admitted: session %q ticket %q", cl.session, cl.ticket)
	}
	cl.keepCredentials(http.Header{sessionHeader: {"s-2"}})
	cl.env, cl.now = &sim.Env{}, func() time.Time { return now }
	req := string(cl.encode(&request{url: mustURL(t, "http://127.0.0.1/live/master.m3u8")}))
	if !strings.Contains(req, "\r\nX-Rempart-Session: s-2") || strings.Contains(req, ticketHeader) ||
		!strings.Contains(req, "Cookie: rempart_session=c2; other=x") {
		t.Errorf("request:\n%s", req)
	}
	cl.forget("forged_session")
	if cl.session != "" || cl.jar.has(sessionCookie) {
		t.Errorf("after forged_session: session %q, cookies %q", cl.session, cl.jar.header(now))
	}
}

// TestAdmissionTrack: the record keeps the first ticket, the first wait
// displayed, the last poll before admission and the admitting answer.
func TestAdmissionTrack(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	queued := func(body string) *verdict {
		qa, _ := decodeAnswer([]byte(body))
		return &verdict{kind: answerQueued, qa: qa}
	}
	tr := newAdmissionTrack()
	tr.success(at(0), 0) // an object outside the gate answered first
	tr.hold(at(1), &verdict{kind: answerLimited})
	tr.hold(at(2), queued(`{"status":"queued","number":7}`))
	tr.polled(3 * time.Second)
	tr.hold(at(5), queued(`{"status":"queued","number":8,"position":4,"wait":12}`))
	tr.polled(2 * time.Second)
	if !tr.success(at(7), 41) || tr.success(at(8), 42) {
		t.Fatal("the admission is the first success after the queue, once")
	}
	tr.polled(time.Hour) // after admission: not the admission's resolution
	want := sim.Admission{Ticketed: at(2), Number: 7, Position: 4, Wait: 12 * time.Second, WaitAt: at(5),
		Poll: 2 * time.Second, Admitted: at(7), Seq: 41, Limited: true}
	if got := tr.rec; got.Ticketed != want.Ticketed || got.Number != want.Number || got.Position != want.Position ||
		got.Wait != want.Wait || got.WaitAt != want.WaitAt || got.Poll != want.Poll || got.Admitted != want.Admitted ||
		got.Seq != want.Seq || got.Limited != want.Limited || got.Requeued != 0 {
		t.Errorf("record %+v\nwant   %+v", got, want)
	}
	tr.hold(at(30), queued(`{"status":"queued","number":99}`)) // session lost
	tr.refusal("ticket_used")
	if tr.rec.Requeued != 1 || tr.rec.Number != 7 || tr.rec.Refused != "ticket_used" || tr.rec.Admitted != at(7) {
		t.Errorf("after a requeue: %+v", tr.rec)
	}
	// A direct admission: no queue, the sequence number of the first success.
	tr = newAdmissionTrack()
	tr.success(at(0), 5)
	if tr.rec.Queued() || tr.rec.Seq != 5 || tr.rec.Wait != sim.NoWait {
		t.Errorf("direct: %+v", tr.rec)
	}
}

func FuzzJudge(f *testing.F) {
	f.Add(503, "3", `{"status":"queued","ticket":"tk","number":1,"position":1,"wait":4,"retry_after":0.5}`, "")
	f.Add(403, "", `{"status":"refused","reason":"ticket_used"}`, "")
	f.Add(200, "", "", "12")
	f.Fuzz(func(t *testing.T, status int, retry, body, admitted string) {
		h := http.Header{"Retry-After": {retry}, admittedHeader: {admitted}}
		vd := judge(response{status: status, header: h, body: []byte(body)}, time.Unix(1000, 0))
		if (vd.kind == answerQueued || vd.kind == answerLimited) && (vd.retry < minQueueWait || vd.retry > maxQueueWait) {
			t.Fatalf("retry %v out of bounds", vd.retry)
		}
		if w, ok := vd.qa.displayedWait(); ok && (w < 0 || w > maxDisplayedWait) {
			t.Fatalf("displayed wait %v", w)
		}
		if vd.seq < 0 || vd.qa.Number < 0 || vd.qa.Position < 0 {
			t.Fatalf("negative numbers: %+v", vd)
		}
		if r := vd.qa.reason(); len(r) > maxReason {
			t.Fatalf("reason %q", r)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
