package contract

// Environment variables shared by every service.
const (
	// EnvHTTPAddr is the listen address of a service's HTTP server (default ":8080").
	EnvHTTPAddr = "HTTP_ADDR"
	// EnvLogLevel is one of debug, info, warn, error (default info).
	EnvLogLevel = "LOG_LEVEL"
	// EnvLogFormat is json (default, for containers) or text.
	EnvLogFormat = "LOG_FORMAT"

	// EnvCORSEnabled turns the service's own CORS middleware on. The operator sets it to
	// "false" when an edge (Ingress, HTTPRoute, dev gateway) answers CORS, so that exactly
	// one place sets Access-Control-* headers.
	EnvCORSEnabled          = "CORS_ENABLED"
	EnvCORSAllowOrigins     = "CORS_ALLOW_ORIGINS" // comma-separated origins or "*"
	EnvCORSAllowMethods     = "CORS_ALLOW_METHODS" // comma-separated
	EnvCORSAllowHeaders     = "CORS_ALLOW_HEADERS" // comma-separated
	EnvCORSAllowCredentials = "CORS_ALLOW_CREDENTIALS"
	EnvCORSMaxAge           = "CORS_MAX_AGE" // seconds
)

// MongoDB connection. The URI carries hosts and options only; credentials come from their
// own variables (filled from Secrets by secretKeyRef) so that no ConfigMap holds a password.
const (
	EnvMongoURI        = "MONGODB_URI"
	EnvMongoUsername   = "MONGODB_USERNAME"
	EnvMongoPassword   = "MONGODB_PASSWORD"
	EnvMongoDatabase   = "MONGODB_DATABASE"
	EnvMongoAuthSource = "MONGODB_AUTH_SOURCE" // database holding the user (default admin)
	EnvMongoMaxPool    = "MONGODB_MAX_POOL_SIZE"
)

// RabbitMQ connection. As with MongoDB, the URL has no credentials in it.
const (
	EnvAMQPURL      = "AMQP_URL" // amqp://host:5672/vhost
	EnvAMQPUsername = "AMQP_USERNAME"
	EnvAMQPPassword = "AMQP_PASSWORD"
)

// Token settings: auth signs, backend verifies locally against auth's JWKS.
const (
	EnvAuthSigningKey      = "AUTH_SIGNING_KEY" // PEM, PKCS#8 Ed25519 private key (auth only)
	EnvAuthIssuer          = "AUTH_ISSUER"
	EnvAuthAudience        = "AUTH_AUDIENCE"
	EnvAuthAccessTokenTTL  = "AUTH_ACCESS_TOKEN_TTL"  // Go duration
	EnvAuthRefreshTokenTTL = "AUTH_REFRESH_TOKEN_TTL" // Go duration
	EnvAuthJWKSURL         = "AUTH_JWKS_URL"          // backend only

	// EnvItemCacheTTL is how long the backend shows an item from memory (Go duration,
	// default 1s; 0 turns the cache off), EnvItemCacheSize how many it keeps (default 10000).
	EnvItemCacheTTL  = "ITEM_CACHE_TTL"
	EnvItemCacheSize = "ITEM_CACHE_SIZE"
)

// Notifier: SMTP relay and consumer tuning.
const (
	EnvSMTPHost     = "SMTP_HOST"
	EnvSMTPPort     = "SMTP_PORT"
	EnvSMTPFrom     = "SMTP_FROM"
	EnvSMTPUsername = "SMTP_USERNAME"
	EnvSMTPPassword = "SMTP_PASSWORD"
	// EnvSMTPStartTLS is one of SMTPStartTLS* below.
	EnvSMTPStartTLS = "SMTP_STARTTLS"

	EnvNotifierPrefetch    = "NOTIFIER_PREFETCH"
	EnvNotifierMaxAttempts = "NOTIFIER_MAX_ATTEMPTS"
	// EnvNotifierWorkers is how many messages the notifier handles at once (default 32).
	EnvNotifierWorkers = "NOTIFIER_WORKERS"
)

// Values of EnvSMTPStartTLS.
const (
	SMTPStartTLSIfAvailable = "IfAvailable"
	SMTPStartTLSAlways      = "Always"
	SMTPStartTLSNever       = "Never"
)
