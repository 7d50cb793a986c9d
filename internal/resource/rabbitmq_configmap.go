package resource

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Keys of the RabbitMQ ConfigMap, files in /etc/rabbitmq.
const (
	RabbitMQConfKey           = "rabbitmq.conf"
	RabbitMQEnabledPluginsKey = "enabled_plugins"
)

// rabbitMQEnabledPlugins: the management plugin serves the HTTP API (and the definitions
// import tooling), the prometheus plugin the metrics on 15692.
const rabbitMQEnabledPlugins = "[rabbitmq_management,rabbitmq_prometheus].\n"

// rabbitMQConfigMapBuilder is rabbitmq.conf and enabled_plugins.
type rabbitMQConfigMapBuilder struct{ shop *Shop }

var _ Builder = (*rabbitMQConfigMapBuilder)(nil)

// RabbitMQConfigMap returns the builder of the broker's configuration files.
func (s *Shop) RabbitMQConfigMap() Builder { return &rabbitMQConfigMapBuilder{shop: s} }

// Build implements Builder.
func (b *rabbitMQConfigMapBuilder) Build() client.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.RabbitMQConfig(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *rabbitMQConfigMapBuilder) Update(obj client.Object) error {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return typeError("ConfigMap", obj)
	}
	if err := b.shop.setOwnerAndLabels(cm, ComponentRabbitMQ); err != nil {
		return err
	}
	conf, err := b.shop.rabbitMQConf()
	if err != nil {
		return err
	}
	// The operator owns every key: rabbitmq reads the whole directory.
	cm.Data = map[string]string{RabbitMQConfKey: conf, RabbitMQEnabledPluginsKey: rabbitMQEnabledPlugins}
	cm.BinaryData = nil
	return nil
}

// rabbitMQConf renders rabbitmq.conf. It is mounted over /etc/rabbitmq, which also hides the
// image's conf.d defaults (among them loopback_users.guest = false).
func (s *Shop) rabbitMQConf() (string, error) {
	spec := s.Instance.Spec.RabbitMQ
	var c strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&c, format+"\n", args...) }

	line("# Written by the LittleEcom operator; edits are overwritten.")
	line("listeners.tcp.default = %d", RabbitMQAMQPPort)
	line("management.tcp.port = %d", RabbitMQManagementPort)
	line("prometheus.tcp.port = %d", RabbitMQPrometheusPort)

	line("")
	line("# Users, permissions and the topology come from the definitions Secret. Because a")
	line("# definitions file is configured, the node creates no default (guest) user; should one")
	line("# exist anyway, it may only connect from inside the pod.")
	line("load_definitions = %s", rabbitMQDefinitionsPath)
	line("loopback_users.guest = true")

	line("")
	line("# Every node lists every node: a node joins the first peer it reaches, so any")
	line("# replica count > 1 forms one cluster. pause_minority stops the nodes on the smaller")
	line("# side of a partition rather than letting two halves accept diverging writes.")
	line("cluster_formation.peer_discovery_backend = classic_config")
	for i := range max(*replicasOr(spec.Replicas, 1), 1) {
		line("cluster_formation.classic_config.nodes.%d = %s", i+1, s.rabbitMQNodeName(s.Names.rabbitMQPodName(i)))
	}
	line("cluster_partition_handling = pause_minority")

	line("")
	line("# The Erlang VM does not see the container's memory limit: tell it, and block")
	line("# publishers at 60%% of it, leaving room for garbage-collection peaks below the limit.")
	if limit, ok := s.rabbitMQResources().Limits[corev1.ResourceMemory]; ok && !limit.IsZero() {
		line("total_memory_available_override_value = %d", limit.Value())
	}
	line("vm_memory_high_watermark.relative = 0.6")
	size, err := resource.ParseQuantity(stringOr(spec.Storage.Size, rabbitMQDefaultStorage))
	if err != nil {
		return "", fmt.Errorf("rabbitmq storage size %q: %w", spec.Storage.Size, err)
	}
	line("# Block publishers when the volume has less than a tenth of its size left (at least")
	line("# RabbitMQ's own default, 50MB): the node keeps room to page out and to recover.")
	line("disk_free_limit.absolute = %d", max(size.Value()/10, 50_000_000))

	line("")
	line("# Logs go to stdout as JSON for the cluster's log collector; nothing is written to disk.")
	line("log.console = true")
	line("log.console.level = info")
	line("log.console.formatter = json")
	line("log.file = false")
	return c.String(), nil
}

// rabbitMQResources are the broker container's resources, defaulted.
func (s *Shop) rabbitMQResources() corev1.ResourceRequirements {
	return resourcesOr(s.Instance.Spec.RabbitMQ.Resources, "250m", "512Mi", "1Gi")
}
