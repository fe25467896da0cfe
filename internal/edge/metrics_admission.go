package edge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rempart/rempart/internal/admission"
)

var (
	descAdmSessions = prometheus.NewDesc("rempart_admission_sessions",
		"Sessions (viewers) admitted and active, per site.", []string{"site"}, nil)
	descAdmCapacity = prometheus.NewDesc("rempart_admission_max_sessions",
		"Sessions admitted at most (0: no cap), per site.", []string{"site"}, nil)
	descAdmWaiting = prometheus.NewDesc("rempart_admission_queue_length",
		"Tickets waiting in the room (pre-queue included), per site.", []string{"site"}, nil)
	descAdmWait = prometheus.NewDesc("rempart_admission_estimated_wait_seconds",
		"Estimated wait of a newcomer (-1: unknown, no departure seen yet), per site.", []string{"site"}, nil)
	descAdmDepartures = prometheus.NewDesc("rempart_admission_departure_rate",
		"Places freed per second over the last minute, per site.", []string{"site"}, nil)
	descAdmLevel = prometheus.NewDesc("rempart_admission_degradation_level",
		"Degradation level (0: every rendition offered), per site.", []string{"site"}, nil)
	descAdmEgress = prometheus.NewDesc("rempart_admission_egress_mbps",
		"Measured egress in Mbit/s, per site.", []string{"site"}, nil)
	descAdmEvents = prometheus.NewDesc("rempart_admission_total",
		"Admission events per site: direct (admitted at once), ticket, granted, redeemed, abandoned, "+
			"grant_expired, ended, resumed (an ended session came back), limited (ticket rate), full (line full).",
		[]string{"site", "event"}, nil)
	descAdmRefused = prometheus.NewDesc("rempart_admission_refused_total",
		"Gated requests refused, per site and reason (forged, used or shared tickets and sessions, tokens, account limit).",
		[]string{"site", "reason"}, nil)
)

func describeAdmission(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAdmSessions, descAdmCapacity, descAdmWaiting, descAdmWait,
		descAdmDepartures, descAdmLevel, descAdmEgress, descAdmEvents, descAdmRefused} {
		ch <- d
	}
}

func collectAdmission(ch chan<- prometheus.Metric, e *Edge) {
	now := e.now()
	for _, r := range e.def.rooms.All() {
		s, site := r.Snapshot(now), r.Site()
		ch <- gauge(descAdmSessions, float64(s.Sessions), site)
		ch <- gauge(descAdmCapacity, float64(s.Capacity.MaxSessions), site)
		ch <- gauge(descAdmWaiting, float64(s.Waiting), site)
		ch <- gauge(descAdmWait, s.Wait, site)
		ch <- gauge(descAdmDepartures, s.DepartureRate, site)
		ch <- gauge(descAdmLevel, float64(s.Level), site)
		ch <- gauge(descAdmEgress, s.Egress, site)
		st := r.Stats()
		for ev, v := range map[string]uint64{"direct": st.Direct.Load(), "ticket": st.Tickets.Load(),
			"granted": st.Granted.Load(), "redeemed": st.Redeemed.Load(), "abandoned": st.Abandoned.Load(),
			"grant_expired": st.Expired.Load(), "ended": st.Ended.Load(), "resumed": st.Resumed.Load(),
			"limited": st.Limited.Load(), "full": st.Full.Load()} {
			ch <- counter(descAdmEvents, float64(v), site, ev)
		}
		for i, reason := range admission.Reasons() {
			ch <- counter(descAdmRefused, float64(st.Refused[i].Load()), site, reason)
		}
	}
}
