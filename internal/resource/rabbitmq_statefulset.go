package resource

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	rabbitMQUID              = 999 // the rabbitmq user of the official image
	rabbitMQDefaultStorage   = "2Gi"
	rabbitMQHome             = "/var/lib/rabbitmq" // $HOME of the image's rabbitmq user
	rabbitMQDataDir          = rabbitMQHome + "/mnesia"
	rabbitMQConfigDir        = "/etc/rabbitmq"
	rabbitMQDefinitionsPath  = rabbitMQConfigDir + "/definitions/" + RabbitMQDefinitionsKey
	rabbitMQCookieMount      = "/etc/rabbitmq-cookie-secret"
	rabbitMQTerminationGrace = 180
)

// rabbitMQStatefulSetBuilder runs the broker nodes.
type rabbitMQStatefulSetBuilder struct{ shop *Shop }

var _ Builder = (*rabbitMQStatefulSetBuilder)(nil)

// RabbitMQStatefulSet returns the builder of the broker's StatefulSet.
func (s *Shop) RabbitMQStatefulSet() Builder { return &rabbitMQStatefulSetBuilder{shop: s} }

// Build implements Builder.
func (b *rabbitMQStatefulSetBuilder) Build() client.Object {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.RabbitMQ(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *rabbitMQStatefulSetBuilder) Update(obj client.Object) error {
	sts, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return typeError("StatefulSet", obj)
	}
	s, spec := b.shop, b.shop.Instance.Spec.RabbitMQ
	if err := s.setOwnerAndLabels(sts, ComponentRabbitMQ); err != nil {
		return err
	}
	sts.Spec.Replicas = replicasOr(spec.Replicas, 1)
	if sts.CreationTimestamp.IsZero() {
		// Immutable after creation.
		storage := spec.Storage
		storage.Size = stringOr(storage.Size, rabbitMQDefaultStorage)
		claim, err := volumeClaimTemplate(dataVolumeName, storage, s.Instance.Name, ComponentRabbitMQ)
		if err != nil {
			return err
		}
		sts.Spec.ServiceName = s.Names.RabbitMQHeadless()
		sts.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, ComponentRabbitMQ)}
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claim}
		// Nodes start together: classic peer discovery lists every node, and a restarting
		// node waits for the peers it last saw, which OrderedReady would never start.
		sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	}
	sts.Spec.PersistentVolumeClaimRetentionPolicy = retentionPolicy(spec.Storage.RetentionPolicy)
	s.podTemplateMeta(&sts.Spec.Template, ComponentRabbitMQ)
	sts.Spec.Template.Spec = b.podSpec()
	return nil
}

func (b *rabbitMQStatefulSetBuilder) podSpec() corev1.PodSpec {
	s := b.shop
	image := s.Image(ComponentRabbitMQ)
	diagnostics := func(check string, initialDelay, period, timeout, failures int32) *corev1.Probe {
		// The CLI boots an Erlang VM per call: a second or more of CPU, hence the timeouts.
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"rabbitmq-diagnostics", "-q", check}}},
			InitialDelaySeconds: initialDelay, PeriodSeconds: period, TimeoutSeconds: timeout, FailureThreshold: failures,
		}
	}
	pod := corev1.PodSpec{
		ServiceAccountName: s.Names.ServiceAccount(),
		// classic_config peer discovery needs no Kubernetes API.
		AutomountServiceAccountToken:  new(false),
		SecurityContext:               podSecurity(rabbitMQUID),
		Affinity:                      spreadAcrossNodes(s.Instance.Name, ComponentRabbitMQ),
		TerminationGracePeriodSeconds: ptr.To[int64](rabbitMQTerminationGrace),
		InitContainers: []corev1.Container{{
			// The Erlang cookie goes into $HOME/.erlang.cookie, owned by the rabbitmq user and
			// readable by it only (Erlang refuses anything looser); the CLI tools of the probes
			// read the same file. RABBITMQ_ERLANG_COOKIE would do it from an env variable but is
			// deprecated since 3.13 and also exposes the cookie in the environment.
			Name:            "erlang-cookie",
			Image:           image,
			Command:         []string{"install", "-m", "0400", rabbitMQCookieMount + "/" + RabbitMQCookieKey, rabbitMQHome + "/.erlang.cookie"},
			SecurityContext: restrictedContainerSecurity(true),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "erlang-cookie-secret", MountPath: rabbitMQCookieMount, ReadOnly: true},
				{Name: "home", MountPath: rabbitMQHome},
			},
		}},
		Containers: []corev1.Container{{
			Name:  "rabbitmq",
			Image: image,
			Ports: []corev1.ContainerPort{
				{Name: "amqp", ContainerPort: RabbitMQAMQPPort},
				{Name: "management", ContainerPort: RabbitMQManagementPort},
				{Name: rabbitMQPrometheusPortName, ContainerPort: RabbitMQPrometheusPort},
				{Name: "epmd", ContainerPort: RabbitMQEPMDPort},
				{Name: "cluster-links", ContainerPort: RabbitMQClusterPort},
			},
			Env: []corev1.EnvVar{
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				// Fully qualified node names through the headless Service: stable across
				// restarts (the node name keys the data directory) and resolvable by peers.
				{Name: "RABBITMQ_USE_LONGNAME", Value: envTrue},
				{Name: "RABBITMQ_NODENAME", Value: s.rabbitMQNodeName("$(POD_NAME)")},
			},
			Resources:      s.rabbitMQResources(),
			ReadinessProbe: diagnostics("check_port_connectivity", 10, 10, 10, 3),
			// Generous: a node that waits for its peers at boot, or is busy paging to disk,
			// must not be killed; a restart only makes either worse.
			LivenessProbe:   diagnostics("status", 120, 30, 20, 6),
			SecurityContext: restrictedContainerSecurity(true),
			// The root filesystem is read-only; these are the paths the broker writes: its
			// home (cookie, plugin expansion), the data volume, logs (crash dumps; log.file
			// is off) and /tmp.
			VolumeMounts: []corev1.VolumeMount{
				{Name: "home", MountPath: rabbitMQHome},
				{Name: dataVolumeName, MountPath: rabbitMQDataDir},
				{Name: configVolumeName, MountPath: rabbitMQConfigDir, ReadOnly: true},
				{Name: "log", MountPath: "/var/log/rabbitmq"},
				{Name: tmpVolumeName, MountPath: tmpDir},
			},
		}},
		Volumes: []corev1.Volume{
			b.configVolume(),
			{Name: "erlang-cookie-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: s.Names.RabbitMQErlangCookieSecret(), DefaultMode: ptr.To[int32](0o400),
			}}},
			emptyDirVolume("home"),
			emptyDirVolume("log"),
			emptyDirVolume(tmpVolumeName),
		},
	}
	withAPIDefaults(&pod)
	return pod
}

// configVolume is /etc/rabbitmq: rabbitmq.conf and enabled_plugins from the ConfigMap and
// definitions/definitions.json from the Secret, projected into one read-only volume. Mounting
// the Secret on a directory inside the ConfigMap's mount would not work: the runtime cannot
// create a mount point in a read-only ConfigMap volume.
func (b *rabbitMQStatefulSetBuilder) configVolume() corev1.Volume {
	n := b.shop.Names
	return corev1.Volume{Name: configVolumeName, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		// Owner root, group fsGroup (the rabbitmq user's group): readable by the broker only.
		DefaultMode: ptr.To[int32](0o440),
		Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: n.RabbitMQConfig()},
				Items: []corev1.KeyToPath{
					{Key: RabbitMQConfKey, Path: RabbitMQConfKey},
					{Key: RabbitMQEnabledPluginsKey, Path: RabbitMQEnabledPluginsKey},
				},
			}},
			{Secret: &corev1.SecretProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: n.RabbitMQDefinitions()},
				Items:                []corev1.KeyToPath{{Key: RabbitMQDefinitionsKey, Path: "definitions/" + RabbitMQDefinitionsKey}},
			}},
		},
	}}}
}

// rabbitMQPodName is the name of broker pod i.
func (n Names) rabbitMQPodName(i int32) string { return fmt.Sprintf("%s-%d", n.RabbitMQ(), i) }
