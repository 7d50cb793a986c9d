package devstack

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"littleecom.io/littleecom/internal/contract"
)

// objects are the ConfigMaps and Secrets of a namespace by name, for resolving env.
type objects struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

// resolveEnv computes a container's environment the way the kubelet does: envFrom sources in
// order (with their prefixes), then env entries, later entries winning; values from
// secretKeyRef and configMapKeyRef are read from objs. Field and resource references have no
// meaning outside a pod and are an error.
func resolveEnv(dep *appsv1.Deployment, container string, objs objects) (map[string]string, error) {
	var c *corev1.Container
	for i := range dep.Spec.Template.Spec.Containers {
		if dep.Spec.Template.Spec.Containers[i].Name == container {
			c = &dep.Spec.Template.Spec.Containers[i]
		}
	}
	if c == nil {
		return nil, fmt.Errorf("deployment %s has no container %q", dep.Name, container)
	}
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := objs.configMaps[from.ConfigMapRef.Name]
			if !ok {
				if optional(from.ConfigMapRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("deployment %s: envFrom ConfigMap %s not found", dep.Name, from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			s, ok := objs.secrets[from.SecretRef.Name]
			if !ok {
				if optional(from.SecretRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("deployment %s: envFrom Secret %s not found", dep.Name, from.SecretRef.Name)
			}
			for k, v := range s.Data {
				env[from.Prefix+k] = string(v)
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			continue
		}
		switch ref := e.ValueFrom; {
		case ref.SecretKeyRef != nil:
			s, ok := objs.secrets[ref.SecretKeyRef.Name]
			v, has := []byte(nil), false
			if ok {
				v, has = s.Data[ref.SecretKeyRef.Key]
			}
			if !has {
				if optional(ref.SecretKeyRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("deployment %s: %s: key %q of Secret %s not found", dep.Name, e.Name, ref.SecretKeyRef.Key, ref.SecretKeyRef.Name)
			}
			env[e.Name] = string(v)
		case ref.ConfigMapKeyRef != nil:
			cm, ok := objs.configMaps[ref.ConfigMapKeyRef.Name]
			v, has := "", false
			if ok {
				v, has = cm.Data[ref.ConfigMapKeyRef.Key]
			}
			if !has {
				if optional(ref.ConfigMapKeyRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("deployment %s: %s: key %q of ConfigMap %s not found", dep.Name, e.Name, ref.ConfigMapKeyRef.Key, ref.ConfigMapKeyRef.Name)
			}
			env[e.Name] = v
		default:
			return nil, fmt.Errorf("deployment %s: %s: field and resource references need a pod; the dev runner cannot resolve them", dep.Name, e.Name)
		}
	}
	return env, nil
}

func optional(b *bool) bool { return b != nil && *b }

// localEndpoints are where the in-cluster endpoints live on this machine.
type localEndpoints struct {
	// MongoURI is FerretDB's mongodb://host:port/?directConnection=true (ferret.Server.URI).
	MongoURI string
	// AMQPAddr is the broker's host:port and VHost the dev vhost the definitions went to.
	AMQPAddr, VHost string
	// UserPrefix renames the operator's RabbitMQ users on the shared local broker.
	UserPrefix string
	SMTPHost   string
	SMTPPort   int
	// AuthAddr is local auth's host:port; HTTPAddr the address this service listens on and
	// ManagementAddr where it serves its probes and metrics.
	AuthAddr, HTTPAddr, ManagementAddr string
}

// Mapping is one environment variable the dev runner changed, with the reason.
type Mapping struct {
	Name, From, To, Why string
}

// secretNames are variables whose values are never logged.
var secretNames = map[string]bool{
	contract.EnvMongoPassword: true, contract.EnvAMQPPassword: true,
	contract.EnvSMTPPassword: true, contract.EnvAuthSigningKey: true,
}

// mapEnv turns the operator's in-cluster environment into one for a local process and says
// what it changed and why. Everything it does not mention is passed on as generated.
func mapEnv(env map[string]string, ep localEndpoints) (map[string]string, []Mapping) {
	out := maps.Clone(env)
	var ms []Mapping
	set := func(name, to, why string) {
		from, had := out[name]
		if had && from == to {
			return
		}
		out[name] = to
		ms = append(ms, Mapping{Name: name, From: from, To: to, Why: why})
	}
	drop := func(name, why string) {
		if from, had := out[name]; had {
			delete(out, name)
			ms = append(ms, Mapping{Name: name, From: from, To: "(unset)", Why: why})
		}
	}

	set(contract.EnvHTTPAddr, ep.HTTPAddr, "a free loopback port instead of the pod's :8080")
	set(contract.EnvManagementAddr, ep.ManagementAddr, "a free loopback port instead of the pod's :8081 (probes and metrics)")
	if _, ok := env[contract.EnvLogFormat]; ok {
		set(contract.EnvLogFormat, "text", "a person reads these logs in a terminal")
	}
	// Only the operator's replica set is stood in for. A shop with spec.mongodb.external
	// keeps its database: its URI (from the user's Secret, possibly with credentials, so never
	// in a mapping that is logged) and its credentials pass on untouched.
	if uri, ok := env[contract.EnvMongoURI]; ok && strings.Contains(uri, inClusterDomain) {
		set(contract.EnvMongoURI, ep.MongoURI,
			"the replica-set members are one local FerretDB, which has no replica-set commands (hence directConnection)")
		const why = "FerretDB v1 (SQLite) cannot take the operator's per-service users: it has no createUser, refuses SCRAM " +
			"(the driver's default) and accepts PLAIN without checking the password"
		drop(contract.EnvMongoUsername, why)
		drop(contract.EnvMongoPassword, why)
	}
	if _, ok := env[contract.EnvAMQPURL]; ok {
		set(contract.EnvAMQPURL, (&url.URL{Scheme: "amqp", Host: ep.AMQPAddr, Path: "/" + ep.VHost, RawPath: "/" + url.PathEscape(ep.VHost)}).String(),
			"the local broker, on the vhost the operator's definitions.json was imported into")
		if u, ok := env[contract.EnvAMQPUsername]; ok && ep.UserPrefix != "" {
			set(contract.EnvAMQPUsername, ep.UserPrefix+u,
				"users are broker-wide and this broker is shared: the operator's user, with its password and permissions, imported under a per-stack name")
		}
	}
	if _, ok := env[contract.EnvSMTPHost]; ok {
		set(contract.EnvSMTPHost, ep.SMTPHost, "the in-process SMTP sink (GET /dev/mail shows what it received)")
		set(contract.EnvSMTPPort, strconv.Itoa(ep.SMTPPort), "the in-process SMTP sink's port")
		if env[contract.EnvSMTPStartTLS] == contract.SMTPStartTLSAlways {
			set(contract.EnvSMTPStartTLS, contract.SMTPStartTLSIfAvailable, "the sink speaks plain SMTP on loopback")
		}
		drop(contract.EnvSMTPUsername, "the sink takes mail without authentication")
		drop(contract.EnvSMTPPassword, "the sink takes mail without authentication")
	}
	if _, ok := env[contract.EnvAuthJWKSURL]; ok {
		set(contract.EnvAuthJWKSURL, "http://"+ep.AuthAddr+contract.PathJWKS, "auth runs locally")
	}
	return out, ms
}

// inClusterDomain ends the cluster DNS names the operator writes (resource.Names.ServiceHost).
const inClusterDomain = ".svc.cluster.local"

// inClusterLeftovers names variables that still point into the cluster after mapping, so a
// new setting the runner does not know yet shows up instead of failing obscurely.
func inClusterLeftovers(env map[string]string) []string {
	var names []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !secretNames[k] && strings.Contains(env[k], inClusterDomain) {
			names = append(names, k)
		}
	}
	return names
}

// environ renders env as KEY=VALUE, sorted, plus PATH and HOME for the process.
func environ(env map[string]string, path, home string) []string {
	out := make([]string, 0, len(env)+2)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return append(out, "PATH="+path, "HOME="+home)
}
