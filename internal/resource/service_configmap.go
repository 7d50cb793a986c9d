package resource

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// Defaults the CRD also applies; repeated here for shops built in memory.
var (
	defaultCORSOrigins = []string{"*"}
	defaultCORSMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}
	defaultCORSHeaders = []string{"DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since",
		"Cache-Control", "Content-Type", "Range", "Authorization"}
)

const (
	defaultCORSMaxAge      int32 = 86400
	defaultAccessTokenTTL        = 15 * time.Minute
	defaultRefreshTokenTTL       = 720 * time.Hour
	defaultSMTPPort              = 587
	defaultItemCacheTTL          = time.Second
	defaultItemCacheSize         = 10000
	defaultSMTPFrom              = "LittleEcom <no-reply@littleecom.local>"
	mongoAuthSource              = "admin"
)

// ServiceConfigMapBuilder is the non-secret environment of one shop service. Credentials are
// never in it: they reach the pods by secretKeyRef (see ServiceDeployment).
type ServiceConfigMapBuilder struct {
	shop      *Shop
	component string
}

var _ Builder = (*ServiceConfigMapBuilder)(nil)

// ServiceConfigMap returns the builder of ConfigMap `<n>-<component>` for backend, auth or
// notifier; the Deployment reads it with envFrom.
func (s *Shop) ServiceConfigMap(component string) Builder {
	return &ServiceConfigMapBuilder{shop: s, component: component}
}

// Build implements Builder.
func (b *ServiceConfigMapBuilder) Build() client.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.Service(b.component), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder.
func (b *ServiceConfigMapBuilder) Update(obj client.Object) error {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return typeError("ConfigMap", obj)
	}
	if err := b.shop.setOwnerAndLabels(cm, b.component); err != nil {
		return err
	}
	env, err := b.shop.serviceEnv(b.component)
	if err != nil {
		return err
	}
	// The ConfigMap is entirely the operator's: every key converges, stray keys go.
	cm.Data = env
	cm.BinaryData = nil
	return nil
}

// serviceEnv is the non-secret environment of component.
func (s *Shop) serviceEnv(component string) (map[string]string, error) {
	spec := s.Instance.Spec
	env := map[string]string{
		contract.EnvHTTPAddr:        fmt.Sprintf(":%d", contract.HTTPPort),
		contract.EnvManagementAddr:  fmt.Sprintf(":%d", contract.ManagementPort),
		contract.EnvLogFormat:       "json",
		contract.EnvLogLevel:        "info",
		contract.EnvMongoURI:        s.MongoDBURI(),
		contract.EnvMongoAuthSource: mongoAuthSource,
	}
	if s.MongoDBExternal() != nil {
		// The external URI comes from the user's Secret (see serviceSecretEnv).
		delete(env, contract.EnvMongoURI)
	}
	maps.Copy(env, s.corsEnv())
	maps.Copy(env, s.tracingEnv())
	env[contract.EnvMongoDatabase] = DatabaseOf(component)
	switch component {
	case ComponentBackend:
		env[contract.EnvAMQPURL] = s.RabbitMQURL()
		env[contract.EnvAuthJWKSURL] = s.AuthJWKSURL()
		env[contract.EnvAuthIssuer] = contract.DefaultIssuer
		env[contract.EnvAuthAudience] = contract.DefaultAudience
		env[contract.EnvItemCacheTTL] = durationOr(spec.Backend.ItemCache.TTL, defaultItemCacheTTL)
		env[contract.EnvItemCacheSize] = strconv.Itoa(itemCacheSize(spec.Backend.ItemCache.Size))
	case ComponentAuth:
		env[contract.EnvAuthIssuer] = contract.DefaultIssuer
		env[contract.EnvAuthAudience] = contract.DefaultAudience
		env[contract.EnvAuthAccessTokenTTL] = durationOr(spec.Auth.AccessTokenTTL, defaultAccessTokenTTL)
		env[contract.EnvAuthRefreshTokenTTL] = durationOr(spec.Auth.RefreshTokenTTL, defaultRefreshTokenTTL)
		// Behind an Ingress every sign-in comes from the controller's address: without the
		// proxies to believe, the per-client-IP limit would be shared by all clients.
		env[contract.EnvTrustedProxies] = strings.Join(spec.Auth.TrustedProxies, ",")
		if err := s.authVerificationEnv(env); err != nil {
			return nil, err
		}
	case ComponentNotifier:
		smtp := spec.Notifier.SMTP
		env[contract.EnvAMQPURL] = s.RabbitMQURL()
		// An empty host is meaningful: no relay configured, the notifier keeps events queued.
		env[contract.EnvSMTPHost] = smtp.Host
		env[contract.EnvSMTPPort] = strconv.Itoa(int(int32Or(smtp.Port, defaultSMTPPort)))
		env[contract.EnvSMTPFrom] = stringOr(smtp.From, defaultSMTPFrom)
		env[contract.EnvSMTPStartTLS] = smtpStartTLS(smtp)
	default:
		return nil, fmt.Errorf("no shop service named %q", component)
	}
	return env, nil
}

// smtpStartTLS is spec's STARTTLS mode with its default filled in: Always with relay
// credentials, so that a password never goes out in the clear, IfAvailable without. The
// notifier defaults the same way; writing the mode out shows in the ConfigMap what is in
// effect and holds for notifier images that default otherwise.
func smtpStartTLS(smtp shopv1.SMTPSpec) string {
	switch {
	case smtp.StartTLS != "":
		return string(smtp.StartTLS)
	case smtp.CredentialsSecretRef != nil:
		return contract.SMTPStartTLSAlways
	default:
		return contract.SMTPStartTLSIfAvailable
	}
}

// corsEnv turns the services' CORS middleware off when an edge (Ingress or HTTPRoute, see
// EdgeEnabled) sits in front of the services and answers CORS, and otherwise renders spec.ingress.cors for it: CORS is answered in exactly
// one place, never twice (browsers reject duplicate Access-Control-Allow-Origin headers).
func (s *Shop) corsEnv() map[string]string {
	if EdgeEnabled(s.Instance.Spec) {
		return map[string]string{contract.EnvCORSEnabled: envFalse}
	}
	p := s.corsPolicy()
	return map[string]string{
		contract.EnvCORSEnabled:          envTrue,
		contract.EnvCORSAllowOrigins:     strings.Join(p.AllowOrigins, envListSeparator),
		contract.EnvCORSAllowMethods:     strings.Join(p.AllowMethods, envListSeparator),
		contract.EnvCORSAllowHeaders:     strings.Join(p.AllowHeaders, envListSeparator),
		contract.EnvCORSAllowCredentials: strconv.FormatBool(p.AllowCredentials),
		contract.EnvCORSMaxAge:           strconv.Itoa(p.MaxAge),
	}
}

// envListSeparator separates the items of a list in the services' environment.
const envListSeparator = ","

// MongoDBURI is the services' connection string: seed hosts, the replica-set name and the
// auth source. It holds no credentials; those come from the user Secrets. The driver learns
// the other members from the set itself, so the seeds are the first three members (fewer
// when the set is smaller), which stay members at every size the set grows to: growing the
// set changes no service's configuration and so restarts no service.
func (s *Shop) MongoDBURI() string {
	spec := s.Instance.Spec.MongoDB
	hosts := make([]string, min(int(MongoDBReplicas(spec)), mongoDBSeeds))
	for i := range hosts {
		hosts[i] = s.Names.MongoDBMemberHost(i)
	}
	return fmt.Sprintf("mongodb://%s/?replicaSet=%s&authSource=%s",
		strings.Join(hosts, ","), MongoDBReplicaSetName(spec), mongoAuthSource)
}

// mongoDBSeeds is how many members the services' URI names: a client finds the set while
// any of them answers.
const mongoDBSeeds = 3

// AuthJWKSURL is where the backend fetches auth's public keys to verify tokens locally.
func (s *Shop) AuthJWKSURL() string {
	return fmt.Sprintf("http://%s:%d%s", s.Names.ServiceHost(s.Names.Service(ComponentAuth)), contract.HTTPPort, contract.PathJWKS)
}

// durationOr renders d, or def when unset, as a Go duration string ("15m0s").
func durationOr(d *metav1.Duration, def time.Duration) string {
	if d == nil {
		return def.String()
	}
	return d.Duration.String()
}

// itemCacheSize is the size set, where 0 means off, or the default.
func itemCacheSize(size *int32) int {
	if size == nil {
		return defaultItemCacheSize
	}
	return int(*size)
}

func int32Or(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}
