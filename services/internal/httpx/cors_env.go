package httpx

import (
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/config"
)

// CORSFromEnv reads the CORS middleware settings. Unset variables give the original shop's
// behaviour (any origin, no credentials); CORS_ENABLED=false turns the middleware off when an
// edge answers CORS. It lives beside the middleware so that package config stays a leaf.
func CORSFromEnv() (cors.Policy, error) {
	cfg := DefaultCORS()
	var err error
	if cfg.Enabled, err = config.Bool(contract.EnvCORSEnabled, cfg.Enabled); err != nil {
		return cfg, err
	}
	cfg.AllowOrigins = config.List(contract.EnvCORSAllowOrigins, cfg.AllowOrigins)
	cfg.AllowMethods = config.List(contract.EnvCORSAllowMethods, cfg.AllowMethods)
	cfg.AllowHeaders = config.List(contract.EnvCORSAllowHeaders, cfg.AllowHeaders)
	if cfg.AllowCredentials, err = config.Bool(contract.EnvCORSAllowCredentials, cfg.AllowCredentials); err != nil {
		return cfg, err
	}
	if cfg.MaxAge, err = config.Int(contract.EnvCORSMaxAge, cfg.MaxAge); err != nil {
		return cfg, err
	}
	return cfg, nil
}
