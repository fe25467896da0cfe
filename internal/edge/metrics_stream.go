package edge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rempart/rempart/internal/stream"
	"github.com/rempart/rempart/internal/telemetry"
)

var (
	descStreamJudged = prometheus.NewDesc("rempart_stream_judged_total",
		"Media requests judged by the site's playlists: listed, unlisted (no playlist lists it where the edge knows "+
			"every segment), unjudged (the edge cannot tell).", []string{"site", "known"}, nil)
	descStreamRefused = prometheus.NewDesc("rempart_stream_refused_total",
		"Unlisted segments the edge answered 404 itself; none reached the origin.", []string{"site"}, nil)
	descStreamNames = prometheus.NewDesc("rempart_stream_names",
		"Object names the site's playlists list now (or lately, or next).", []string{"site"}, nil)
	descStreamPlaylists = prometheus.NewDesc("rempart_stream_playlists",
		"Live media playlists the edge has learned and still follows.", []string{"site"}, nil)
	descStreamFull = prometheus.NewDesc("rempart_stream_full",
		"1 when the site's catalog is at its bound of names: unknown names go unjudged (fail open).", []string{"site"}, nil)
	descStreamPrefetch = prometheus.NewDesc("rempart_stream_prefetch_total",
		"Playlists the edge asked to fetch itself (renditions nobody fetched here, where unknown segment names are asked): "+
			"queued, or dropped by the full queue.", []string{"result"}, nil)
	descStreamViewers = prometheus.NewDesc("rempart_stream_viewers",
		"Clients that behave as players now: a media playlist, then the segments it lists, at a player's pace.", nil, nil)
)

func describeStream(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStreamJudged, descStreamRefused, descStreamNames, descStreamPlaylists,
		descStreamFull, descStreamPrefetch, descStreamViewers} {
		ch <- d
	}
}

func collectStream(ch chan<- prometheus.Metric, e *Edge) {
	s := e.def.streams
	s.each(func(site string, c *stream.Catalog) {
		for k := telemetry.KnownUnjudged; k <= telemetry.KnownUnlisted; k++ {
			ch <- counter(descStreamJudged, float64(c.Judged[k].Load()), site, k.String())
		}
		ch <- counter(descStreamRefused, float64(c.Refused.Load()), site)
		sz := c.Size()
		ch <- gauge(descStreamNames, float64(sz.Names), site)
		ch <- gauge(descStreamPlaylists, float64(sz.Playlists), site)
		ch <- gauge(descStreamFull, boolFloat(sz.Full), site)
	})
	ch <- counter(descStreamPrefetch, float64(s.prefetch.Asked.Load()), "queued")
	ch <- counter(descStreamPrefetch, float64(s.prefetch.Dropped.Load()), "dropped")
	ch <- gauge(descStreamViewers, float64(s.viewers.Count(e.now())))
}
