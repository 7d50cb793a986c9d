package backend

import (
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/contract"
)

func TestConfigFromEnv(t *testing.T) {
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvAuthJWKSURL) {
		t.Errorf("without %s: %v", contract.EnvAuthJWKSURL, err)
	}
	t.Setenv(contract.EnvAuthJWKSURL, " http://auth:8080/jwks ")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.JWKSURL != "http://auth:8080/jwks" || cfg.HTTPAddr != ":8080" || cfg.ManagementAddr != ":8081" ||
		cfg.Issuer != contract.DefaultIssuer || cfg.Audience != contract.DefaultAudience ||
		cfg.Mongo.Database != contract.DatabaseBackend || cfg.AMQP.Conn.URL == "" || !cfg.CORS.Enabled {
		t.Fatalf("%+v %v", cfg, err)
	}
	t.Setenv(contract.EnvHTTPAddr, "127.0.0.1:9000")
	t.Setenv(contract.EnvAuthAudience, "shop-b")
	t.Setenv(contract.EnvAMQPURL, "amqp://rabbit:5672/")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.HTTPAddr != "127.0.0.1:9000" || cfg.Audience != "shop-b" || cfg.AMQP.Conn.URL != "amqp://rabbit:5672/" {
		t.Fatalf("%+v %v", cfg, err)
	}
	t.Setenv(contract.EnvCORSEnabled, "perhaps")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvCORSEnabled+`="perhaps"`) {
		t.Errorf("bad bool: %v", err)
	}
}

func TestConfigFromEnv_ItemCache(t *testing.T) {
	t.Setenv(contract.EnvAuthJWKSURL, "http://auth:8080/jwks")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.ItemCacheTTL != DefaultItemCacheTTL || cfg.ItemCacheSize != DefaultItemCacheSize {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	t.Setenv(contract.EnvItemCacheTTL, "0")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.ItemCacheTTL != 0 {
		t.Fatalf("%s=0 turns the cache off: %v %v", contract.EnvItemCacheTTL, cfg.ItemCacheTTL, err)
	}
	t.Setenv(contract.EnvItemCacheSize, "-5")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvItemCacheSize) {
		t.Fatalf("a negative size: %v", err)
	}
}
