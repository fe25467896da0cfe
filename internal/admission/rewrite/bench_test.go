package rewrite

import "testing"

// BenchmarkDrop is the degraded master request: a memoized Drop.
func BenchmarkDrop(b *testing.B) {
	l := newLadder(b, master4)
	l.Drop(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(l.Drop(1))))
	for b.Loop() {
		l.Drop(1)
	}
}

// BenchmarkNewLadderDrop is the first request for a new master version:
// parse, rank, and Drop once.
func BenchmarkNewLadderDrop(b *testing.B) {
	body := []byte(master4)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		l, err := NewLadder("/live/master.m3u8", body)
		if err != nil {
			b.Fatal(err)
		}
		l.Drop(1)
	}
}

func BenchmarkSubstitute(b *testing.B) {
	l := newLadder(b, master4)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Substitute("/live/1080p/index.m3u8", 2); !ok {
			b.Fatal("no substitute")
		}
	}
}

func BenchmarkAddQuery(b *testing.B) {
	const token = "v1.eyJzIjoiNGY3YzJhIiwibiI6IjIwMy4wLjExMy4wLzI0IiwiZSI6MTcxNzI3MjAwMH0.Qx8nZr1vK3mP0aT6yW2cE5hJ9uL4sD7fG1bN8oI0kM4"
	for _, bc := range []struct{ name, body string }{
		{"master4", master4},
		{"media10", media10},
		{"llMedia", llMedia},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				AddQuery(in, "rempart_session", token)
			}
		})
	}
}
