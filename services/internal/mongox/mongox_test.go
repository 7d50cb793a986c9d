package mongox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
)

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(contract.EnvMongoURI, "mongodb://db:27017/")
	t.Setenv(contract.EnvMongoPassword, "hunter2")
	t.Setenv(contract.EnvMongoUsername, "auth")
	cfg, err := mongox.ConfigFromEnv(contract.DatabaseAuth)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != contract.DatabaseAuth || cfg.MaxPoolSize != mongox.DefaultMaxPoolSize || cfg.Password.Reveal() != "hunter2" {
		t.Errorf("cfg = %+v", cfg)
	}
	if s := cfg.LogValue().String(); strings.Contains(s, "hunter2") {
		t.Errorf("LogValue leaks: %s", s)
	}
	t.Setenv(contract.EnvMongoMaxPool, "lots")
	if _, err := mongox.ConfigFromEnv("x"); err == nil || !strings.Contains(err.Error(), contract.EnvMongoMaxPool) {
		t.Errorf("bad pool error = %v", err)
	}
}

func TestConnect_FailsFastWhenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := mongox.Connect(context.Background(), mongox.Config{URI: "mongodb://127.0.0.1:1/?directConnection=true", ConnectTimeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
