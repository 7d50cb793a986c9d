package auth

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mongox"
)

// Config is the auth service's settings. It is safe to log: the signing key is a Secret.
type Config struct {
	HTTPAddr string `env:"HTTP_ADDR"`
	// ManagementAddr serves health, readiness and metrics (MANAGEMENT_ADDR).
	ManagementAddr string        `env:"MANAGEMENT_ADDR"`
	Mongo          mongox.Config `env:"-"`
	CORS           cors.Policy   `env:"-"`

	// SigningKeyPEM is a PKCS#8 Ed25519 key; empty means an ephemeral key (dev only: tokens
	// die with the process and replicas disagree).
	SigningKeyPEM   config.Secret `env:"AUTH_SIGNING_KEY"`
	Issuer          string        `env:"AUTH_ISSUER"`
	Audience        string        `env:"AUTH_AUDIENCE"`
	AccessTokenTTL  time.Duration `env:"AUTH_ACCESS_TOKEN_TTL"`
	RefreshTokenTTL time.Duration `env:"AUTH_REFRESH_TOKEN_TTL"`

	// Abuse limits (limits.go, store/limiter.go): failed sign-ins per (account, client) and per client in
	// each SignInWindow, registrations per client and in all per minute.
	SignInFailuresPerAccount int `env:"AUTH_SIGNIN_FAILURES_PER_ACCOUNT"`
	SignInFailuresPerClient  int `env:"AUTH_SIGNIN_FAILURES_PER_CLIENT"`
	RegisterPerClient        int `env:"AUTH_REGISTER_PER_CLIENT_PER_MINUTE"`
	RegisterPerMinute        int `env:"AUTH_REGISTER_PER_MINUTE"`
	// TrustedProxies come from TRUSTED_PROXIES, CIDRs checked by ConfigFromEnv.
	TrustedProxies []netip.Prefix
	BcryptCost     int

	// EmailVerification makes new accounts confirm their address through a mailed link
	// (verify.go) before they sign in; PublicURL is where the link points; AMQP is how auth
	// hands the mail to the notifier. Off by default: the original clients sign in right
	// after they register.
	EmailVerification bool         `env:"AUTH_EMAIL_VERIFICATION"`
	PublicURL         string       `env:"AUTH_PUBLIC_URL"`
	AMQP              amqpx.Config `env:"-"`

	ShutdownTimeout time.Duration
}

// Defaults for the token lifetimes and the abuse limits (see contract).
const (
	DefaultAccessTokenTTL           = 15 * time.Minute
	DefaultRefreshTokenTTL          = 720 * time.Hour
	DefaultSignInFailuresPerAccount = 10
	DefaultSignInFailuresPerClient  = 100
	DefaultRegisterPerClient        = 40
	DefaultRegisterPerMinute        = 600
)

// ConfigFromEnv reads the contract's env vars.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		HTTPAddr:                 config.DefaultHTTPAddr,
		ManagementAddr:           config.DefaultManagementAddr,
		Issuer:                   contract.DefaultIssuer,
		Audience:                 contract.DefaultAudience,
		AccessTokenTTL:           DefaultAccessTokenTTL,
		RefreshTokenTTL:          DefaultRefreshTokenTTL,
		SignInFailuresPerAccount: DefaultSignInFailuresPerAccount,
		SignInFailuresPerClient:  DefaultSignInFailuresPerClient,
		RegisterPerClient:        DefaultRegisterPerClient,
		RegisterPerMinute:        DefaultRegisterPerMinute,
		BcryptCost:               bcrypt.DefaultCost,
		ShutdownTimeout:          20 * time.Second,
	}
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	var err error
	if cfg.Mongo, err = mongox.ConfigFromEnv(contract.DatabaseAuth); err != nil {
		return cfg, err
	}
	if cfg.CORS, err = httpx.CORSFromEnv(); err != nil {
		return cfg, err
	}
	for _, l := range []struct {
		n   int
		env string
	}{
		{cfg.SignInFailuresPerAccount, contract.EnvAuthSignInFailuresPerAccount},
		{cfg.SignInFailuresPerClient, contract.EnvAuthSignInFailuresPerClient},
		{cfg.RegisterPerClient, contract.EnvAuthRegisterPerClient},
		{cfg.RegisterPerMinute, contract.EnvAuthRegisterPerMinute},
	} {
		if l.n <= 0 {
			return cfg, fmt.Errorf("%s must be positive", l.env)
		}
	}
	if !cfg.EmailVerification {
		cfg.PublicURL = "" // read only for verification links
	} else {
		if cfg.PublicURL, err = publicURL(cfg.PublicURL); err != nil {
			return cfg, err
		}
		if cfg.AMQP, err = amqpx.ConfigFromEnv(); err != nil {
			return cfg, err
		}
		if err := cfg.AMQP.Validate(); err != nil {
			return cfg, fmt.Errorf("%s needs RabbitMQ: %w", contract.EnvAuthEmailVerification, err)
		}
	}
	var proxies struct {
		CIDRs []string `env:"TRUSTED_PROXIES"`
	}
	if err := config.Parse(&proxies); err != nil {
		return cfg, err
	}
	for _, s := range proxies.CIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cfg, fmt.Errorf("%s: %q is not a CIDR: %w", contract.EnvTrustedProxies, s, err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	switch {
	case c.AccessTokenTTL <= 0:
		return fmt.Errorf("%s must be positive", contract.EnvAuthAccessTokenTTL)
	case c.RefreshTokenTTL <= c.AccessTokenTTL:
		return fmt.Errorf("%s must be longer than %s", contract.EnvAuthRefreshTokenTTL, contract.EnvAuthAccessTokenTTL)
	}
	return nil
}

// publicURL checks the base of the verification links: an absolute http(s) URL without a
// query; a trailing slash is dropped.
func publicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if s == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s=%q: want the shop's public URL, e.g. https://shop.example.com (required with %s)",
			contract.EnvAuthPublicURL, s, contract.EnvAuthEmailVerification)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// LogValue lists the settings without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("management_addr", c.ManagementAddr),
		slog.Any("mongo", c.Mongo),
		slog.Bool("cors_enabled", c.CORS.Enabled),
		slog.Bool("signing_key_set", c.SigningKeyPEM.IsSet()),
		slog.String("issuer", c.Issuer),
		slog.String("audience", c.Audience),
		slog.Duration("access_token_ttl", c.AccessTokenTTL),
		slog.Duration("refresh_token_ttl", c.RefreshTokenTTL),
		slog.Int("signin_failures_per_account", c.SignInFailuresPerAccount),
		slog.Int("signin_failures_per_client", c.SignInFailuresPerClient),
		slog.Int("register_per_client", c.RegisterPerClient),
		slog.Int("register_per_minute", c.RegisterPerMinute),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.Bool("email_verification", c.EmailVerification),
		slog.String("public_url", c.PublicURL),
		slog.Any("amqp", c.AMQP),
	)
}
