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

func TestParse(t *testing.T) {
	type settings struct {
		N        int           `env:"T_INT"`
		Unset    int           `env:"T_UNSET"`
		Blank    string        `env:"T_BLANK"`
		D        time.Duration `env:"T_DUR"`
		B        bool          `env:"T_BOOL"`
		L        []string      `env:"T_LIST"`
		S        string        `env:"T_STR"`
		Pass     config.Secret `env:"T_SECRET"`
		Untagged int
	}
	t.Setenv("T_INT", " 12 ")
	t.Setenv("T_BLANK", "   ")
	t.Setenv("T_DUR", "15m")
	t.Setenv("T_BOOL", "false")
	t.Setenv("T_LIST", " a, b ,,c ")
	t.Setenv("T_STR", " x ")
	t.Setenv("T_SECRET", "hunter2")
	got := settings{Unset: 7, Blank: "def", B: true, Untagged: 3}
	if err := config.Parse(&got); err != nil {
		t.Fatal(err)
	}
	want := settings{N: 12, Unset: 7, Blank: "def", D: 15 * time.Minute, L: []string{"a", "b", "c"}, S: "x", Pass: "hunter2", Untagged: 3}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) || got.Pass.Reveal() != "hunter2" {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
}

func TestParse_ErrorsNameTheVariable(t *testing.T) {
	var s struct {
		N int           `env:"T_BAD_INT"`
		D time.Duration `env:"T_BAD_DUR"`
		B bool          `env:"T_BAD_BOOL"`
	}
	t.Setenv("T_BAD_INT", "twelve")
	t.Setenv("T_BAD_DUR", "15")
	t.Setenv("T_BAD_BOOL", "sometimes")
	err := config.Parse(&s)
	for _, want := range []string{
		`T_BAD_INT="twelve": not an integer`,
		`T_BAD_DUR="15": not a duration such as 30s or 15m`,
		`T_BAD_BOOL="sometimes": not a boolean (true or false)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	}
}

// A list of only separators is empty, and the caller keeps its default.
func TestParse_BlankListIsEmpty(t *testing.T) {
	var s struct {
		L []string `env:"T_LIST"`
	}
	t.Setenv("T_LIST", " , ,")
	if err := config.Parse(&s); err != nil || len(s.L) != 0 {
		t.Errorf("Parse = %q, %v", s.L, err)
	}
}
