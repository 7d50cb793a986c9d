package resource

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// fluentdConfDir is inside the image's /fluentd/etc, so the image's own files stay.
	fluentdConfDir = "/fluentd/etc/littleecom"
	// fluentdPodIPEnv carries the pod's address, where monitor_agent listens.
	fluentdPodIPEnv = "POD_IP"
)

// fluentdDaemonSetBuilder runs Fluentd on every node.
type fluentdDaemonSetBuilder struct{ shop *Shop }

// FluentdDaemonSet returns the builder of DaemonSet `<n>-fluentd`.
func (s *Shop) FluentdDaemonSet() Builder {
	return optional{Builder: &fluentdDaemonSetBuilder{shop: s}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *fluentdDaemonSetBuilder) Build() client.Object {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Fluentd(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder. The update strategy and revisionHistoryLimit are left to the
// API server's defaults.
func (b *fluentdDaemonSetBuilder) Update(obj client.Object) error {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return typeError("DaemonSet", obj)
	}
	s := b.shop
	if err := s.setOwnerAndLabels(ds, ComponentFluentd); err != nil {
		return err
	}
	if ds.CreationTimestamp.IsZero() {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, ComponentFluentd)}
	}
	s.podTemplateMeta(&ds.Spec.Template, ComponentFluentd)
	ds.Spec.Template.Spec = b.podSpec()
	return nil
}

func (b *fluentdDaemonSetBuilder) podSpec() corev1.PodSpec {
	s := b.shop
	spec := s.Instance.Spec.Logging.Fluentd
	monitor := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/api/plugins.json", Port: intstr.FromString("monitor")}}
	hostPath := func(name, path string, t corev1.HostPathType) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: new(t)}}}
	}
	pod := corev1.PodSpec{
		// The Kubernetes metadata filter reads pods with this account's token (a Role in this
		// namespace, or the administrator's ClusterRole: FluentdAccess).
		ServiceAccountName:           s.Names.Fluentd(),
		AutomountServiceAccountToken: new(true),
		EnableServiceLinks:           new(false),
		// uid 0 with every capability dropped: containerd and CRI-O write the log files
		// root:root, mode 0640, so their owner (uid 0, by the owner bits, no capability
		// involved) reads them. A non-root uid would need CAP_DAC_READ_SEARCH, which
		// Kubernetes cannot give a non-root process (capabilities reach it only as ambient
		// ones, which pods cannot set), or gid 0, which the image's start-up (bundler,
		// writing below /fluentd as root) does not run under. Without CAP_DAC_OVERRIDE,
		// CAP_CHOWN, CAP_FOWNER and the rest, root here cannot read or write what it does
		// not own, and /var/log is mounted read-only.
		SecurityContext: &corev1.PodSecurityContext{
			RunAsUser:      ptr.To[int64](0),
			RunAsGroup:     ptr.To[int64](0),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		TerminationGracePeriodSeconds: ptr.To[int64](60),
		Containers: []corev1.Container{{
			Name:  ComponentFluentd,
			Image: s.FluentdImage(),
			Ports: []corev1.ContainerPort{{Name: "monitor", ContainerPort: FluentdMonitorPort}},
			Env: []corev1.EnvVar{
				// The image's entrypoint runs /fluentd/etc/$FLUENTD_CONF.
				{Name: "FLUENTD_CONF", Value: "littleecom/" + FluentdConfKey},
				// Set (non-empty) also so that the entrypoint does not try to edit the config.
				{Name: "FLUENT_ELASTICSEARCH_USER", Value: FluentdESUser},
				secretEnv("FLUENT_ELASTICSEARCH_PASSWORD", s.Names.ElasticsearchCredentialsSecret(), FluentdPasswordKey),
				{Name: "K8S_NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: fluentdPodIPEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			},
			Resources:      resourcesOr(spec.Resources, "100m", "200Mi", "512Mi"),
			ReadinessProbe: &corev1.Probe{ProbeHandler: monitor, InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 3},
			LivenessProbe:  &corev1.Probe{ProbeHandler: monitor, InitialDelaySeconds: 30, PeriodSeconds: 30, TimeoutSeconds: 5, FailureThreshold: 5},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: new(false),
				// The image's entrypoint and bundler write below /fluentd.
				ReadOnlyRootFilesystem: new(false),
				Capabilities:           &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			VolumeMounts: []corev1.VolumeMount{
				{Name: configVolumeName, MountPath: fluentdConfDir, ReadOnly: true},
				// Read-only: Fluentd only reads the logs; its own state goes to the next mount.
				{Name: "varlog", MountPath: "/var/log", ReadOnly: true},
				{Name: "state", MountPath: fluentdStateMount},
				// Docker's JSON files, which /var/log/containers links to on Docker nodes.
				{Name: "dockercontainers", MountPath: "/var/lib/docker/containers", ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: configVolumeName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: s.Names.Fluentd()},
			}}},
			hostPath("varlog", "/var/log", corev1.HostPathDirectory),
			// On the host so that positions and buffered logs survive a restart of the pod.
			hostPath("state", s.Names.FluentdStateDir(), corev1.HostPathDirectoryOrCreate),
			hostPath("dockercontainers", "/var/lib/docker/containers", corev1.HostPathDirectoryOrCreate),
		},
	}
	withAPIDefaults(&pod)
	return pod
}

// fluentdServiceAccountBuilder is the account Fluentd's pods run as.
type fluentdServiceAccountBuilder struct{ shop *Shop }

// FluentdServiceAccount returns the builder of ServiceAccount `<n>-fluentd`, the subject of
// Fluentd's RoleBinding (or ClusterRoleBinding).
func (s *Shop) FluentdServiceAccount() Builder {
	return optional{Builder: &fluentdServiceAccountBuilder{shop: s}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *fluentdServiceAccountBuilder) Build() client.Object {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Fluentd(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *fluentdServiceAccountBuilder) Update(obj client.Object) error {
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return typeError("ServiceAccount", obj)
	}
	return b.shop.setOwnerAndLabels(sa, ComponentFluentd)
}
