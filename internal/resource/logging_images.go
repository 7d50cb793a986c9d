package resource

// Default images of the logging stack. Like the other defaults (images.go) they are the
// operator's, resolved at every reconcile, so that an operator upgrade moves every shop that
// did not pin an image.
//
// Elasticsearch and Kibana stay on the 8.19 line rather than 9.x: 8.19.14 is past the
// advisories that cover 8.15.3 (ESA-2026-19 up to 8.19.11, CVE-2026-4498 fixed in 8.19.14),
// an Elasticsearch 8.15 data directory upgrades to 8.19 in place (9.x refuses to start on
// data a node older than 8.18 wrote), and the Fluentd image's Elasticsearch client is the
// 8.x one. Kibana must not be newer than Elasticsearch; during the roll it waits until every
// node runs 8.19.
const (
	DefaultElasticsearchImage = "elasticsearch:8.19.14"
	DefaultKibanaImage        = "kibana:8.19.14"
	DefaultFluentdImage       = "fluent/fluentd-kubernetes-daemonset:v1.17-debian-elasticsearch8-1"
)

// formerLoggingDefaults are the images earlier releases wrote into every LittleEcom as CRD
// defaults. A stored spec cannot tell them from a choice, so they count as unset: the shop
// follows the operator's default instead of staying on a release with published
// advisories. Anyone who wants exactly that release back pins it under another spelling
// (e.g. library/kibana:8.15.3).
var formerLoggingDefaults = map[string]bool{
	"elasticsearch:8.15.3": true,
	"kibana:8.15.3":        true,
	DefaultFluentdImage:    true,
}

// loggingImage is the spec's image unless it is empty or a former CRD default.
func loggingImage(spec, def string) string {
	if spec == "" || formerLoggingDefaults[spec] {
		return def
	}
	return spec
}

// ElasticsearchImage is the image Elasticsearch (and Kibana's user-setup container) runs.
func (s *Shop) ElasticsearchImage() string {
	return loggingImage(string(s.Instance.Spec.Logging.Elasticsearch.Image), DefaultElasticsearchImage)
}

// KibanaImage is the image Kibana runs.
func (s *Shop) KibanaImage() string {
	return loggingImage(string(s.Instance.Spec.Logging.Kibana.Image), DefaultKibanaImage)
}

// FluentdImage is the image Fluentd runs.
func (s *Shop) FluentdImage() string {
	return loggingImage(string(s.Instance.Spec.Logging.Fluentd.Image), DefaultFluentdImage)
}
