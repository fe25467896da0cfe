package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/synth"
)

type originFlags struct {
	listen      string
	segDuration time.Duration
	window      int
	segSize     string
	latency     time.Duration
	renditions  int
	concurrent  int
	queue       int
}

func (f *originFlags) register(c *cobra.Command, listenName, listenDefault string) {
	c.Flags().StringVar(&f.listen, listenName, listenDefault, "address host:port of the synthetic origin")
	c.Flags().DurationVar(&f.segDuration, "segment-duration", 2*time.Second, "live segment duration, whole seconds from 1s to 10s")
	c.Flags().IntVar(&f.window, "window", 6, "segments listed in each live media playlist")
	c.Flags().StringVar(&f.segSize, "segment-size", "0", "pad every live segment to at least this size (e.g. 4MiB) for heavy-segment load tests; 0 keeps natural size")
	c.Flags().DurationVar(&f.latency, "latency", 0, "every request's service time, waited before its answer (in its --max-concurrent slot), to play a slow origin")
	c.Flags().IntVar(&f.renditions, "renditions", 0, "live renditions offered, the lowest first (1 to 3; 0: all)")
	c.Flags().IntVar(&f.concurrent, "max-concurrent", 0, "requests served at once, to play a weak origin (with --latency 20ms, 8 serve ~400 requests/s); 0: no limit")
	c.Flags().IntVar(&f.queue, "max-queue", 0, "requests that wait for a --max-concurrent slot; beyond it the origin answers 503 at once")
}

// options turns the flags into synth options; errors name the flag.
func (f *originFlags) options() (synth.Options, error) {
	size, err := config.ParseByteSize(f.segSize)
	if err != nil {
		return synth.Options{}, usagef("--segment-size: %v", err)
	}
	// Zero fields take defaults, so validating one field at a time tells
	// which flag is wrong.
	checks := []struct {
		flag string
		opts synth.Options
	}{
		{"--segment-duration", synth.Options{SegmentDuration: f.segDuration}},
		{"--window", synth.Options{Window: f.window}},
		{"--segment-size", synth.Options{SegmentBytes: int(size)}},
		{"--latency", synth.Options{Latency: f.latency}},
		{"--renditions", synth.Options{Renditions: f.renditions}},
		{"--max-concurrent", synth.Options{MaxConcurrent: f.concurrent}},
		{"--max-queue", synth.Options{MaxConcurrent: f.concurrent, MaxQueue: f.queue}},
	}
	for _, c := range checks {
		if err := c.opts.Validate(); err != nil {
			return synth.Options{}, usagef("%s: %v", c.flag, err)
		}
	}
	return synth.Options{SegmentDuration: f.segDuration, Window: f.window, SegmentBytes: int(size), Latency: f.latency,
		Renditions: f.renditions, MaxConcurrent: f.concurrent, MaxQueue: f.queue}, nil
}

func newOrigin() *cobra.Command {
	var f originFlags
	c := &cobra.Command{
		Use:   "origin",
		Short: "Run a synthetic streaming platform origin (live HLS, on-demand audio, JSON API)",
		Long: `Run a synthetic origin standing in for a streaming platform, for demos and tests:

  /live/master.m3u8            live HLS, 3 renditions (--renditions), sliding window
  /live/<rendition>/index.m3u8 media playlists; segments /live/<rendition>/<seq>.ts
  /ondemand/track1.wav ...     on-demand audio with Range support
  /api/catalog, /api/login     the app's API

It needs no ffmpeg at run time: a small pre-encoded loop is re-timed live.

To play a weak origin, --latency sets each request's service time and
--max-concurrent the requests served at once (--max-queue more wait; the
rest get 503): --latency 20ms --max-concurrent 8 serves about 400
requests/s. /_synth/metrics counts every request received
(synth_requests_received_total) and those answered by kind; it is outside
that capacity.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			return synth.Run(c.Context(), f.listen, opts, logger)
		},
	}
	f.register(c, "listen", "127.0.0.1:9000")
	return c
}
