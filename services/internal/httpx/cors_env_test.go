package httpx_test

import (
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/httpx"
)

func TestCORSFromEnv(t *testing.T) {
	c, err := httpx.CORSFromEnv()
	if err != nil || !c.Enabled || c.AllowOrigins[0] != "*" || c.AllowCredentials {
		t.Fatalf("default = %+v, %v", c, err)
	}
	t.Setenv(contract.EnvCORSEnabled, "false")
	t.Setenv(contract.EnvCORSAllowOrigins, "https://a.example,https://b.example")
	t.Setenv(contract.EnvCORSMaxAge, "60")
	c, err = httpx.CORSFromEnv()
	if err != nil || c.Enabled || len(c.AllowOrigins) != 2 || c.MaxAge != 60 {
		t.Fatalf("from env = %+v, %v", c, err)
	}
	t.Setenv(contract.EnvCORSAllowCredentials, "maybe")
	if _, err := httpx.CORSFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvCORSAllowCredentials) {
		t.Fatalf("bad bool error = %v", err)
	}
}
