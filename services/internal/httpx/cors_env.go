package httpx

import (
	"littleecom.io/littleecom/services/internal/config"
)

// CORSFromEnv reads the CORS middleware settings. Unset variables give the original shop's
// behaviour (any origin, no credentials); CORS_ENABLED=false turns the middleware off when an
// edge answers CORS. It lives beside the middleware so that package config stays a leaf.
func CORSFromEnv() (CORSConfig, error) {
	def := DefaultCORS()
	cfg := DefaultCORS()
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	// A list of only commas names nothing: keep the default, as for an unset variable.
	for _, l := range []struct{ got, def *[]string }{
		{&cfg.AllowOrigins, &def.AllowOrigins}, {&cfg.AllowMethods, &def.AllowMethods}, {&cfg.AllowHeaders, &def.AllowHeaders},
	} {
		if len(*l.got) == 0 {
			*l.got = *l.def
		}
	}
	return cfg, nil
}
