package resource

import (
	"maps"
	"testing"

	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

var otelKeys = []string{contract.EnvOTelEndpoint, contract.EnvOTelProtocol, contract.EnvOTelTracesSampler,
	contract.EnvOTelTracesSamplerArg, contract.EnvOTelResourceAttributes}

func TestServiceConfigMap_Tracing(t *testing.T) {
	for _, tt := range []struct {
		name    string
		tracing shopv1.TracingSpec
		want    map[string]string // nil: no OTEL_* key at all
	}{
		{name: "off by default"},
		{name: "a sampling share without an endpoint stays off", tracing: shopv1.TracingSpec{SamplingPercent: ptr.To[int32](50)}},
		{
			name:    "an endpoint records every trace",
			tracing: shopv1.TracingSpec{OTLPEndpoint: "http://otel-collector.observability:4318"},
			want: map[string]string{
				contract.EnvOTelEndpoint:           "http://otel-collector.observability:4318",
				contract.EnvOTelProtocol:           "http/protobuf",
				contract.EnvOTelTracesSampler:      "parentbased_traceidratio",
				contract.EnvOTelTracesSamplerArg:   "1",
				contract.EnvOTelResourceAttributes: "service.namespace=shop,k8s.namespace.name=ns",
			},
		},
		{
			name:    "a share of new traces",
			tracing: shopv1.TracingSpec{OTLPEndpoint: "https://otel.example.com", SamplingPercent: ptr.To[int32](25)},
			want: map[string]string{
				contract.EnvOTelEndpoint:           "https://otel.example.com",
				contract.EnvOTelProtocol:           "http/protobuf",
				contract.EnvOTelTracesSampler:      "parentbased_traceidratio",
				contract.EnvOTelTracesSamplerArg:   "0.25",
				contract.EnvOTelResourceAttributes: "service.namespace=shop,k8s.namespace.name=ns",
			},
		},
		{
			name:    "none of the new traces: only those a caller sampled",
			tracing: shopv1.TracingSpec{OTLPEndpoint: "http://c:4318", SamplingPercent: ptr.To[int32](0)},
			want: map[string]string{
				contract.EnvOTelEndpoint:           "http://c:4318",
				contract.EnvOTelProtocol:           "http/protobuf",
				contract.EnvOTelTracesSampler:      "parentbased_traceidratio",
				contract.EnvOTelTracesSamplerArg:   "0",
				contract.EnvOTelResourceAttributes: "service.namespace=shop,k8s.namespace.name=ns",
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Tracing = tt.tracing })
			for _, c := range []string{ComponentAuth, ComponentBackend, ComponentNotifier} {
				data := svcConfigMap(t, s, c).Data
				got := map[string]string{}
				for _, k := range otelKeys {
					if v, ok := data[k]; ok {
						got[k] = v
					}
				}
				if tt.want == nil && len(got) > 0 || tt.want != nil && !maps.Equal(got, tt.want) {
					t.Errorf("%s: OTEL_* = %v, want %v", c, got, tt.want)
				}
			}
		})
	}
}
