package contract

// HTTPPort is the port every shop service listens on inside its pod.
const HTTPPort = 8080

// Probe and observability paths served by every service.
const (
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathMetrics = "/metrics"
	PathOpenAPI = "/openapi.yaml"
	// PathJWKS is served by auth; backend fetches it to verify tokens locally.
	PathJWKS = "/auth/.well-known/jwks.json"
)

// MongoDB databases, one per service, each with its own least-privilege user.
const (
	DatabaseBackend  = "ecom"
	DatabaseAuth     = "ecom-auth"
	DatabaseNotifier = "ecom-notifier"
)

// Token claims fixed by the operator for every shop.
const (
	DefaultIssuer   = "littleecom-auth"
	DefaultAudience = "littleecom"
)

// Keys inside the Secrets the operator generates and the services read by secretKeyRef.
const (
	SecretKeyUsername   = "username"
	SecretKeyPassword   = "password"
	SecretKeySigningKey = "signing-key.pem"
	// SecretKeyURI is the default key of the connection string in the Secret that
	// spec.mongodb.external names (its uriKey can name another).
	SecretKeyURI = "uri"
)
