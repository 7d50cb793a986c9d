package resource

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	shopv1 "littleecom.io/littleecom/api/v1"
)

// The API server applies the CRD defaults; these mirror them for objects that were built in
// memory (tests, benchmarks) and for fields the CRD leaves empty, such as resources.

func replicasOr(p *int32, def int32) *int32 {
	if p == nil {
		return new(def)
	}
	return new(*p)
}

func stringOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resourcesOr returns r, or the given requests and memory limit when r is empty.
func resourcesOr(r corev1.ResourceRequirements, cpu, memory, memoryLimit string) corev1.ResourceRequirements {
	if len(r.Requests) > 0 || len(r.Limits) > 0 {
		return *r.DeepCopy()
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(memory),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse(memoryLimit),
		},
	}
}

// MongoDBReplicas is spec.mongodb.replicas, or its default: the replica set's member count.
func MongoDBReplicas(spec shopv1.MongoDBSpec) int32 { return ptr.Deref(spec.Replicas, 3) }

// MongoDBReplicaSetName is spec.mongodb.replicaSetName, or its default: the name mongod runs
// with (--replSet) and the services' connection string names.
func MongoDBReplicaSetName(spec shopv1.MongoDBSpec) string {
	return stringOr(spec.ReplicaSetName, "rs0")
}
