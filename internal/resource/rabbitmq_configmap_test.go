package resource

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func rmqConfigMap(t *testing.T, s *Shop) *corev1.ConfigMap {
	t.Helper()
	return buildOnce(t, s.RabbitMQConfigMap()).(*corev1.ConfigMap)
}

// confLines returns rabbitmq.conf's settings as key -> value, comments dropped.
func confLines(t *testing.T, conf string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for l := range strings.SplitSeq(conf, "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, " = ")
		if !ok {
			t.Fatalf("rabbitmq.conf line %q is not 'key = value'", l)
		}
		if _, dup := out[k]; dup {
			t.Errorf("rabbitmq.conf sets %s twice", k)
		}
		out[k] = v
	}
	return out
}

func TestRabbitMQConfigMap_Content(t *testing.T) {
	cm := rmqConfigMap(t, newTestShop(t, nil))
	assertOwned(t, cm, "shop-rabbitmq-config", ComponentRabbitMQ)
	if got := cm.Data[RabbitMQEnabledPluginsKey]; got != "[rabbitmq_management,rabbitmq_prometheus].\n" {
		t.Errorf("enabled_plugins = %q", got)
	}
	conf := confLines(t, cm.Data[RabbitMQConfKey])
	for k, want := range map[string]string{
		"listeners.tcp.default":                    "5672",
		"management.tcp.port":                      "15672",
		"prometheus.tcp.port":                      "15692",
		"load_definitions":                         "/etc/rabbitmq/definitions/definitions.json",
		"loopback_users.guest":                     "true",
		"cluster_formation.peer_discovery_backend": "classic_config",
		"cluster_formation.classic_config.nodes.1": "rabbit@shop-rabbitmq-0.shop-rabbitmq-headless.ns.svc.cluster.local",
		"cluster_partition_handling":               "pause_minority",
		"vm_memory_high_watermark.relative":        "0.6",
		"total_memory_available_override_value":    "1073741824", // the default 1Gi limit
		"disk_free_limit.absolute":                 fmt.Sprint(2 << 30 / 10),
		"log.console":                              "true",
		"log.console.formatter":                    "json",
		"log.file":                                 "false",
	} {
		if conf[k] != want {
			t.Errorf("%s = %q, want %q", k, conf[k], want)
		}
	}
	if _, ok := conf["cluster_formation.classic_config.nodes.2"]; ok {
		t.Error("one replica lists a second node")
	}
	if len(cm.Data) != 2 {
		t.Errorf("data keys = %d, want rabbitmq.conf and enabled_plugins only", len(cm.Data))
	}
}

func TestRabbitMQConfigMap_SpecChanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*shopv1.LittleEcomSpec)
		want   map[string]string
		absent []string
	}{
		{
			name:   "three replicas list every node",
			mutate: func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Replicas = ptr.To[int32](3) },
			want: map[string]string{
				"cluster_formation.classic_config.nodes.1": "rabbit@shop-rabbitmq-0.shop-rabbitmq-headless.ns.svc.cluster.local",
				"cluster_formation.classic_config.nodes.2": "rabbit@shop-rabbitmq-1.shop-rabbitmq-headless.ns.svc.cluster.local",
				"cluster_formation.classic_config.nodes.3": "rabbit@shop-rabbitmq-2.shop-rabbitmq-headless.ns.svc.cluster.local",
			},
			absent: []string{"cluster_formation.classic_config.nodes.4"},
		},
		{
			name:   "zero replicas still render a valid node list",
			mutate: func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Replicas = ptr.To[int32](0) },
			want: map[string]string{
				"cluster_formation.classic_config.nodes.1": "rabbit@shop-rabbitmq-0.shop-rabbitmq-headless.ns.svc.cluster.local",
			},
			absent: []string{"cluster_formation.classic_config.nodes.2"},
		},
		{
			name: "memory limit and storage size set the watermarks",
			mutate: func(s *shopv1.LittleEcomSpec) {
				s.RabbitMQ.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}
				s.RabbitMQ.Storage.Size = "20Gi"
			},
			want: map[string]string{
				"total_memory_available_override_value": fmt.Sprint(4 << 30),
				"disk_free_limit.absolute":              fmt.Sprint(20 << 30 / 10),
			},
		},
		{
			name: "no memory limit: no override; tiny volume: RabbitMQ's floor",
			mutate: func(s *shopv1.LittleEcomSpec) {
				s.RabbitMQ.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
				s.RabbitMQ.Storage.Size = "100Mi"
			},
			want:   map[string]string{"disk_free_limit.absolute": "50000000"},
			absent: []string{"total_memory_available_override_value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := confLines(t, rmqConfigMap(t, newTestShop(t, tt.mutate)).Data[RabbitMQConfKey])
			for k, want := range tt.want {
				if conf[k] != want {
					t.Errorf("%s = %q, want %q", k, conf[k], want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := conf[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
		})
	}
}

func TestRabbitMQConfigMap_BadStorageSizeIsAnError(t *testing.T) {
	s := newTestShop(t, func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Storage.Size = "lots" })
	b := s.RabbitMQConfigMap()
	if err := b.Update(b.Build()); err == nil {
		t.Error("Update accepted storage size \"lots\"")
	}
}

func TestRabbitMQConfigMap_UpdateIsIdempotent(t *testing.T) {
	assertUpdateIsIdempotent(t, newTestShop(t, nil).RabbitMQConfigMap())
}

func TestRabbitMQConfigMap_ConvergesAfterAnEdit(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.RabbitMQConfigMap()
	want := buildOnce(t, b).(*corev1.ConfigMap)
	edited := want.DeepCopy()
	edited.Data[RabbitMQConfKey] = "loopback_users = none\n"
	edited.Data["extra"] = "x"
	if err := b.Update(edited); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(edited.Data) != fmt.Sprint(want.Data) {
		t.Errorf("after Update data = %v, want %v", edited.Data, want.Data)
	}
}
