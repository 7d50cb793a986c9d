package httpx

import (
	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/config"
)

// CORSEnv is the environment of the services' own CORS answer (internal/contract's
// CORS_* names). cors.Policy, shared with the operator, carries no env tags: the names are
// the services' business, and the operator writes them from the same policy.
type CORSEnv struct {
	Enabled          bool     `env:"CORS_ENABLED"`
	AllowOrigins     []string `env:"CORS_ALLOW_ORIGINS"` // exact origins, wildcard ones, or "*" for any
	AllowMethods     []string `env:"CORS_ALLOW_METHODS"`
	AllowHeaders     []string `env:"CORS_ALLOW_HEADERS"`
	AllowCredentials bool     `env:"CORS_ALLOW_CREDENTIALS"`
	MaxAge           int      `env:"CORS_MAX_AGE"` // seconds a preflight may be cached; 0 leaves it to the browser
}

// CORSFromEnv reads the CORS middleware settings. Unset variables give the original shop's
// behaviour (any origin, no credentials); CORS_ENABLED=false turns the middleware off when an
// edge answers CORS. It lives beside the middleware so that package config stays a leaf.
func CORSFromEnv() (cors.Policy, error) {
	def := DefaultCORS()
	env := CORSEnv{
		Enabled: def.Enabled, AllowOrigins: def.AllowOrigins, AllowMethods: def.AllowMethods,
		AllowHeaders: def.AllowHeaders, AllowCredentials: def.AllowCredentials, MaxAge: def.MaxAge,
	}
	if err := config.Parse(&env); err != nil {
		return def, err
	}
	// A list of only commas names nothing: keep the default, as for an unset variable.
	for _, l := range []struct{ got, def *[]string }{
		{&env.AllowOrigins, &def.AllowOrigins}, {&env.AllowMethods, &def.AllowMethods}, {&env.AllowHeaders, &def.AllowHeaders},
	} {
		if len(*l.got) == 0 {
			*l.got = *l.def
		}
	}
	return cors.Policy{
		Enabled: env.Enabled, AllowOrigins: env.AllowOrigins, AllowMethods: env.AllowMethods,
		AllowHeaders: env.AllowHeaders, AllowCredentials: env.AllowCredentials, MaxAge: env.MaxAge,
	}, nil
}
