package resource

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Volume names and paths that several workloads' pods share.
const (
	// dataVolumeName names a StatefulSet's volume claim template and the mount of its volume.
	dataVolumeName = "data"
	// configVolumeName names the read-only volume of a workload's configuration files.
	configVolumeName = "config"
	// tmpVolumeName is the emptyDir mounted at tmpDir: a container whose root filesystem is
	// read-only still needs a writable /tmp.
	tmpVolumeName = "tmp"
	tmpDir        = "/tmp"
)

// envTrue and envFalse are booleans as the images and the shop's services read them from
// their environment.
const (
	envTrue  = "true"
	envFalse = "false"
)

// withAPIDefaults fills in what the API server would default in a pod spec. Builders
// replace a workload's pod template as a whole; writing the defaults ourselves makes the
// built template equal to the stored one, so an unchanged shop causes no update.
func withAPIDefaults(spec *corev1.PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = ptr.To[int64](corev1.DefaultTerminationGracePeriodSeconds)
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.ServiceAccountName != "" && spec.DeprecatedServiceAccount == "" {
		spec.DeprecatedServiceAccount = spec.ServiceAccountName
	}
	for i := range spec.InitContainers {
		containerDefaults(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		containerDefaults(&spec.Containers[i])
	}
	for i := range spec.Volumes {
		volumeDefaults(&spec.Volumes[i].VolumeSource)
	}
}

func containerDefaults(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if tag := imageTag(c.Image); tag == "" || tag == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if ref := c.Env[i].ValueFrom; ref != nil && ref.FieldRef != nil && ref.FieldRef.APIVersion == "" {
			ref.FieldRef.APIVersion = "v1"
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		probeDefaults(p)
	}
}

func probeDefaults(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HTTPGet != nil && p.HTTPGet.Scheme == "" {
		p.HTTPGet.Scheme = corev1.URISchemeHTTP
	}
}

func volumeDefaults(v *corev1.VolumeSource) {
	const defaultMode = corev1.SecretVolumeSourceDefaultMode
	if v.Secret != nil && v.Secret.DefaultMode == nil {
		v.Secret.DefaultMode = ptr.To[int32](defaultMode)
	}
	if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
		v.ConfigMap.DefaultMode = ptr.To[int32](corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if v.Projected != nil && v.Projected.DefaultMode == nil {
		v.Projected.DefaultMode = ptr.To[int32](corev1.ProjectedVolumeSourceDefaultMode)
	}
}

// imageTag returns the tag of ref, "" when it has none (a digest counts as a tag).
func imageTag(ref string) string {
	if at := strings.LastIndex(ref, "@"); at >= 0 {
		return ref[at+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[colon+1:]
	}
	return ""
}

// restrictedContainerSecurity is the container security context of every shop pod: no
// privilege escalation, no capabilities, read-only root filesystem (writable paths are
// emptyDirs), seccomp from the runtime.
func restrictedContainerSecurity(readOnlyRoot bool) *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false),
		ReadOnlyRootFilesystem:   new(readOnlyRoot),
		RunAsNonRoot:             new(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// podSecurity runs the pod as uid/gid with fsGroup so volumes are writable by it.
func podSecurity(uid int64) *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsUser:      new(uid),
		RunAsGroup:     new(uid),
		RunAsNonRoot:   new(true),
		FSGroup:        new(uid),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// ConfigHashAnnotation on a pod template carries the checksum of the configuration the pods
// read; changing it rolls the workload.
const ConfigHashAnnotation = "littleecom.io/config-hash"

// podTemplateMeta sets labels and the config-hash annotation on a pod template.
func (s *Shop) podTemplateMeta(t *corev1.PodTemplateSpec, component string) {
	t.Labels = Labels(s.Instance.Name, component)
	// Other annotations (kubectl rollout restart's restartedAt) are kept.
	if h := s.ConfigHashes[component]; h != "" {
		mergeInto(&t.Annotations, map[string]string{ConfigHashAnnotation: h})
	} else {
		delete(t.Annotations, ConfigHashAnnotation)
	}
	if len(t.Annotations) == 0 {
		t.Annotations = nil
	}
}
