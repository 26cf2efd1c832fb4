package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tguard/tguard/indexer"
)

// serveMetrics are serve's Prometheus metrics, in a registry of their own.
type serveMetrics struct {
	reg *prometheus.Registry

	leaseHeld     prometheus.Gauge
	grants        prometheus.Counter
	renewals      prometheus.Counter
	renewFailures prometheus.Counter
	leasesLost    prometheus.Counter
	handoffWait   prometheus.Histogram
	docsCommitted prometheus.Counter
	commitSeconds prometheus.Histogram
	token         prometheus.Gauge
	docsAccepted  prometheus.Counter
	ackSeconds    prometheus.Histogram
	searchSeconds prometheus.Histogram
	searchErrors  prometheus.Counter
	searchRetries prometheus.Counter
}

func newServeMetrics() *serveMetrics {
	m := &serveMetrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		f(c)
		return c
	}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
		f(h)
		return h
	}
	m.leaseHeld = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tguard_lease_held", Help: "1 while this instance holds the index's lease."})
	f(m.leaseHeld)
	m.token = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tguard_fencing_token", Help: "The fencing token of this instance's last grant."})
	f(m.token)
	m.grants = counter("tguard_lease_grants_total", "Leases granted to this instance.")
	m.renewals = counter("tguard_lease_renewals_total", "Lease renewals of this instance.")
	m.renewFailures = counter("tguard_lease_renewal_failures_total", "Lease renewals that failed (retried while the lease lasts).")
	m.leasesLost = counter("tguard_leases_lost_total", "Turns that lost their lease or were fenced; nothing of them was committed.")
	m.handoffWait = hist("tguard_lease_handoff_wait_seconds", "Time from asking for the lease to its grant.", prometheus.ExponentialBuckets(0.001, 2, 16))
	m.docsCommitted = counter("tguard_documents_committed_total", "Journal entries this instance committed into the index.")
	m.commitSeconds = hist("tguard_commit_duration_seconds", "Duration of a turn that committed (grant, apply, commit, release).", prometheus.ExponentialBuckets(0.005, 2, 14))
	m.docsAccepted = counter("tguard_documents_accepted_total", "Documents journaled and acknowledged (202).")
	m.ackSeconds = hist("tguard_accept_duration_seconds", "Time from reading a POST /documents body to its acknowledgement.", prometheus.ExponentialBuckets(0.0005, 2, 14))
	m.searchSeconds = hist("tguard_search_duration_seconds", "Duration of searches.", prometheus.ExponentialBuckets(0.0005, 2, 14))
	m.searchErrors = counter("tguard_search_errors_total", "Searches that failed.")
	m.searchRetries = counter("tguard_search_retries_total", "Searches retried after reopening the index (segment files removed by another instance).")
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register adds the metrics read from the server's state.
func (m *serveMetrics) register(s *server) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tguard_journal_depth", Help: "Journal entries not yet in any commit.",
	}, func() float64 {
		n, err := s.ixr.Pending()
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

func (m *serveMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *serveMetrics) granted(token uint64, waited time.Duration) {
	m.leaseHeld.Set(1)
	m.grants.Inc()
	m.token.Set(float64(token))
	m.handoffWait.Observe(waited.Seconds())
}

func (m *serveMetrics) turnEnded() { m.leaseHeld.Set(0) }

func (m *serveMetrics) committed(res indexer.FlushResult, d time.Duration) {
	m.docsCommitted.Add(float64(res.Applied))
	m.commitSeconds.Observe(d.Seconds())
}

func (m *serveMetrics) leaseLost() { m.leasesLost.Inc() }

func (m *serveMetrics) accepted(n int, d time.Duration) {
	m.docsAccepted.Add(float64(n))
	m.ackSeconds.Observe(d.Seconds())
}

func (m *serveMetrics) searched(d time.Duration, err error) {
	m.searchSeconds.Observe(d.Seconds())
	if err != nil {
		m.searchErrors.Inc()
	}
}

func (m *serveMetrics) searchRetried() { m.searchRetries.Inc() }

// renewed is the lock's renewal observer.
func (m *serveMetrics) renewed(err error) {
	if err != nil {
		m.renewFailures.Inc()
		return
	}
	m.renewals.Inc()
}
