package viewer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/synth"
	"go.uber.org/goleak"
)

// TestMain doubles as the synthetic origin of TestScale, run in a child
// process so that its connections do not count in the viewers' memory.
func TestMain(m *testing.M) {
	if os.Getenv("VIEWER_TEST_ORIGIN") == "1" {
		serveOrigin()
		return
	}
	goleak.VerifyTestMain(m) // every viewer's goroutine and connection is gone
}

func serveOrigin() {
	s, err := synth.New(synth.Options{SegmentDuration: time.Second, Window: 6})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(ln.Addr())
	go http.Serve(ln, s)
	io.Copy(io.Discard, os.Stdin) // the parent closing stdin ends the origin
}

// countRec counts, without keeping anything.
type countRec struct {
	reqs, errs, stalls, started atomic.Int64
}

func (r *countRec) Request(_ int, _ sim.Kind, _ time.Time, _ time.Duration, status int, _ int64, err error) {
	r.reqs.Add(1)
	if err != nil || status >= 400 {
		r.errs.Add(1)
	}
}
func (r *countRec) State(_ int, _, to sim.State) {
	if to == sim.StateStalled {
		r.stalls.Add(1)
	}
}
func (r *countRec) Viewer(_ int, v sim.ViewerSummary) {
	if v.Started {
		r.started.Add(1)
	}
}
func (r *countRec) Conn(int, int) {}

// TestScale runs many live viewers (VIEWER_SCALE_N, default 2000) capped
// at the lowest rendition against a synthetic origin in a child process,
// and reports the memory and CPU each costs the siege process.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("runs thousands of viewers for 10 s")
	}
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("VIEWER_SCALE_N")); err == nil && v > 0 {
		n = v
	}
	addr := startOriginProcess(t)
	env, _ := newEnv(t, "http://"+addr, sim.Params{"max_bandwidth": 1.0})
	rec := &countRec{}
	env.Rec = rec
	before := heapAndStacks()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range n {
		c := sim.Client{ID: int64(i), Source: netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(i%250 + 1)}), Intended: time.Now()}
		wg.Go(func() { Models()["live-viewer"].Run(ctx, env, c) })
		time.Sleep(time.Millisecond) // arrivals over n ms
	}
	time.Sleep(3 * time.Second)
	cpu0, t0, reqs0 := cpuTime(), time.Now(), rec.reqs.Load()
	time.Sleep(5 * time.Second)
	cpu, wall, reqs := cpuTime()-cpu0, time.Since(t0), rec.reqs.Load()-reqs0
	mem := heapAndStacks() - before
	cancel()
	wg.Wait()
	t.Logf("%d viewers: %.1f KiB per viewer (heap in use + stacks), %.1f%% of one core per 1,000 viewers, %.0f requests/s, %d errors, %d stalls, %d started",
		n, float64(mem)/float64(n)/1024, 100*cpu.Seconds()/wall.Seconds()*1000/float64(n),
		float64(reqs)/wall.Seconds(), rec.errs.Load(), rec.stalls.Load(), rec.started.Load())
	if per := mem / uint64(n); per > 64<<10 {
		t.Errorf("%d bytes per viewer, want under 64 KiB", per)
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startOriginProcess runs this test binary as the origin and returns its
// address.
func startOriginProcess(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "VIEWER_TEST_ORIGIN=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line[:len(line)-1]
}
