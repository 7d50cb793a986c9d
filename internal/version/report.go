package version

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricName is the build-info series every program exports, always 1; its labels say which
// release runs, as go_build_info and kube-state-metrics' build info do.
const MetricName = "littleecom_build_info"

// NewCollector returns littleecom_build_info{program, version, revision, goversion} = 1 for
// this binary. Register it once per registry.
func NewCollector(program string) prometheus.Collector {
	i := Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: MetricName,
		Help: "Which LittleEcom release this program is: always 1, the labels carry the facts.",
		ConstLabels: prometheus.Labels{
			"program": program, "version": i.Version, "revision": i.Revision, "goversion": i.GoVersion,
		},
	})
	g.Set(1)
	return g
}

// Requested reports whether args (os.Args[1:]) ask for the version alone: "--version" or
// "-version" as the only argument. The services take no other flags, so anything else is
// left to them; the manager registers a flag instead.
func Requested(args []string) bool {
	return len(args) == 1 && (args[0] == "--version" || args[0] == "-version")
}

// Print writes "<program> <Info>" and a newline to w.
func Print(w io.Writer, program string) {
	_, _ = fmt.Fprintf(w, "%s %s\n", program, Get())
}
