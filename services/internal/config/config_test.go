package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/config"
)

func TestSecret_NeverPrinted(t *testing.T) {
	type cfg struct {
		User     string
		Password config.Secret
	}
	c := cfg{User: "u", Password: "hunter2"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "password", c.Password, "cfg", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "password", c.Password)
	j, _ := json.Marshal(c)
	outputs := []string{
		fmt.Sprint(c.Password), fmt.Sprintf("%s %v %q %+v %#v", c.Password, c.Password, c.Password, c, c),
		string(j), logs.String(), c.Password.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, "***") {
			t.Errorf("no mask in %s", out)
		}
	}
	if c.Password.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

func TestHelpers(t *testing.T) {
	t.Setenv("T_INT", "12")
	t.Setenv("T_BAD_INT", "twelve")
	t.Setenv("T_DUR", "15m")
	t.Setenv("T_BAD_DUR", "15")
	t.Setenv("T_BOOL", "false")
	t.Setenv("T_LIST", " a, b ,,c ")
	if n, err := config.Int("T_INT", 1); n != 12 || err != nil {
		t.Errorf("Int = %d, %v", n, err)
	}
	if n, err := config.Int("T_UNSET", 7); n != 7 || err != nil {
		t.Errorf("Int default = %d, %v", n, err)
	}
	if _, err := config.Int("T_BAD_INT", 1); err == nil || !strings.Contains(err.Error(), "T_BAD_INT") {
		t.Errorf("Int error = %v", err)
	}
	if d, err := config.Duration("T_DUR", 0); d != 15*time.Minute || err != nil {
		t.Errorf("Duration = %v, %v", d, err)
	}
	if _, err := config.Duration("T_BAD_DUR", 0); err == nil || !strings.Contains(err.Error(), "T_BAD_DUR") {
		t.Errorf("Duration error = %v", err)
	}
	if b, err := config.Bool("T_BOOL", true); b || err != nil {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if got := config.List("T_LIST", nil); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("List = %q", got)
	}
	if got := config.String("T_UNSET", "def"); got != "def" {
		t.Errorf("String default = %q", got)
	}
}
