package config

import (
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/httpx"
)

// CORSFromEnv reads the CORS middleware settings. Unset variables give the original shop's
// behaviour (any origin, no credentials); CORS_ENABLED=false turns the middleware off when an
// edge answers CORS.
func CORSFromEnv() (httpx.CORSConfig, error) {
	cfg := httpx.DefaultCORS()
	var err error
	if cfg.Enabled, err = Bool(contract.EnvCORSEnabled, cfg.Enabled); err != nil {
		return cfg, err
	}
	cfg.AllowOrigins = List(contract.EnvCORSAllowOrigins, cfg.AllowOrigins)
	cfg.AllowMethods = List(contract.EnvCORSAllowMethods, cfg.AllowMethods)
	cfg.AllowHeaders = List(contract.EnvCORSAllowHeaders, cfg.AllowHeaders)
	if cfg.AllowCredentials, err = Bool(contract.EnvCORSAllowCredentials, cfg.AllowCredentials); err != nil {
		return cfg, err
	}
	if cfg.MaxAge, err = Int(contract.EnvCORSMaxAge, cfg.MaxAge); err != nil {
		return cfg, err
	}
	return cfg, nil
}
