package resource

import (
	"strconv"

	"k8s.io/utils/ptr"

	"littleecom.io/littleecom/internal/contract"
)

// defaultSamplingPercent records every new trace, as the CRD's documentation says.
const defaultSamplingPercent = 100

// tracingEnv is the OpenTelemetry environment of every service when spec.tracing names a
// collector, and nothing otherwise: the services then export nothing (the keys leave the
// ConfigMap, which rolls the Deployments). The sampler is parent-based, so a request that
// arrives sampled is recorded in every service it crosses, and the resource names the shop
// and its namespace so that a collector serving several shops can tell them apart.
func (s *Shop) tracingEnv() map[string]string {
	t := s.Instance.Spec.Tracing
	if t.OTLPEndpoint == "" {
		return nil
	}
	return map[string]string{
		contract.EnvOTelEndpoint:         string(t.OTLPEndpoint),
		contract.EnvOTelProtocol:         contract.OTelProtocolHTTPProtobuf,
		contract.EnvOTelTracesSampler:    contract.OTelSamplerParentBasedRatio,
		contract.EnvOTelTracesSamplerArg: strconv.FormatFloat(float64(ptr.Deref(t.SamplingPercent, defaultSamplingPercent))/100, 'f', -1, 64),
		contract.EnvOTelResourceAttributes: "service.namespace=" + s.Instance.Name +
			",k8s.namespace.name=" + s.Instance.Namespace,
	}
}
