package auth

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mongox"
)

// Config is the auth service's settings. It is safe to log: the signing key is a Secret.
type Config struct {
	HTTPAddr string
	// ManagementAddr serves health, readiness and metrics (MANAGEMENT_ADDR).
	ManagementAddr string
	Mongo          mongox.Config
	CORS           httpx.CORSConfig

	// SigningKeyPEM is a PKCS#8 Ed25519 key; empty means an ephemeral key (dev only: tokens
	// die with the process and replicas disagree).
	SigningKeyPEM   config.Secret
	Issuer          string
	Audience        string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration

	SignInPerMinute int
	TrustedProxies  []netip.Prefix
	BcryptCost      int

	ShutdownTimeout time.Duration
}

// Defaults for the token lifetimes.
const (
	DefaultAccessTokenTTL  = 15 * time.Minute
	DefaultRefreshTokenTTL = 720 * time.Hour
	DefaultSignInPerMinute = 10
)

// ConfigFromEnv reads the contract's env vars.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		HTTPAddr:        config.HTTPAddr(),
		ManagementAddr:  config.ManagementAddr(),
		SigningKeyPEM:   config.Secret(config.String(contract.EnvAuthSigningKey, "")),
		Issuer:          config.String(contract.EnvAuthIssuer, contract.DefaultIssuer),
		Audience:        config.String(contract.EnvAuthAudience, contract.DefaultAudience),
		BcryptCost:      bcrypt.DefaultCost,
		ShutdownTimeout: 20 * time.Second,
	}
	var err error
	if cfg.Mongo, err = mongox.ConfigFromEnv(contract.DatabaseAuth); err != nil {
		return cfg, err
	}
	if cfg.CORS, err = config.CORSFromEnv(); err != nil {
		return cfg, err
	}
	if cfg.AccessTokenTTL, err = config.Duration(contract.EnvAuthAccessTokenTTL, DefaultAccessTokenTTL); err != nil {
		return cfg, err
	}
	if cfg.RefreshTokenTTL, err = config.Duration(contract.EnvAuthRefreshTokenTTL, DefaultRefreshTokenTTL); err != nil {
		return cfg, err
	}
	if cfg.SignInPerMinute, err = config.Int(contract.EnvAuthSignInPerMinute, DefaultSignInPerMinute); err != nil {
		return cfg, err
	}
	for _, s := range config.List(contract.EnvTrustedProxies, nil) {
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
	case c.SignInPerMinute <= 0:
		return fmt.Errorf("%s must be positive", contract.EnvAuthSignInPerMinute)
	}
	return nil
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
		slog.Int("signin_per_minute", c.SignInPerMinute),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
	)
}
