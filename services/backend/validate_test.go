package backend

import (
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/problem"
)

func TestCheckPrice(t *testing.T) {
	for in, want := range map[float64]float64{
		0.01: 0.01, 12.5: 12.5, 12.499999999999998: 12.5, 0.29: 0.29, 19.99: 19.99, 1_000_000: 1_000_000, 0.1 + 0.2: 0.3,
	} {
		got, err := checkPrice(in)
		if err != nil || got != want {
			t.Errorf("checkPrice(%v) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, detail := range map[float64]string{
		0: "from 0.01", -3: "from 0.01", 0.001: "from 0.01", 5e-324: "from 0.01", 1e308: "to 1000000.00",
		1_000_000.01: "to 1000000.00", 12.345: "at most 2 decimals", 0.015: "at most 2 decimals",
	} {
		_, err := checkPrice(in)
		if problem.CodeOf(err) != problem.Invalid || !strings.Contains(err.Error(), detail) {
			t.Errorf("checkPrice(%v) = %v, want a 400 saying %q", in, err, detail)
		}
	}
}

func TestCheckName(t *testing.T) {
	for in, want := range map[string]string{
		"  lamp ":                "lamp",
		"lamp «ünïcode» 🪔":       "lamp «ünïcode» 🪔",
		"Ölkanne, 2 l — 50 %":    "Ölkanne, 2 l — 50 %",
		"日本の急須":                  "日本の急須",
		"café\u0301":             "café\u0301", // a combining accent is a mark, not a format character
		strings.Repeat("é", 200): strings.Repeat("é", 200),
		"a\u00a0b":               "a\u00a0b", // a no-break space is a space
		"price: 12\u2009€":       "price: 12\u2009€",
	} {
		got, err := checkName(in)
		if err != nil || got != want {
			t.Errorf("checkName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for name, in := range map[string]string{
		"empty":                       "   ",
		"too long":                    strings.Repeat("é", 201),
		"line break":                  "lamp\ncheap",
		"tab":                         "lamp\tcheap",
		"NUL":                         "lamp\x00",
		"right-to-left override":      "lamp \u202Egnp.exe",
		"right-to-left isolate":       "lamp \u2067x\u2069",
		"left-to-right mark":          "lamp\u200E",
		"zero-width space":            "la\u200Bmp",
		"zero-width joiner":           "la\u200Dmp",
		"byte-order mark":             "\uFEFFlamp",
		"soft hyphen":                 "lamp\u00ADshade",
		"line separator":              "lamp\u2028cheap",
		"private use":                 "lamp\uE000",
		"unassigned":                  "lamp\U000E0080",
		"replacement (invalid UTF-8)": "lamp\uFFFD",
		"invalid UTF-8":               "lamp\xff",
	} {
		if _, err := checkName(in); problem.CodeOf(err) != problem.Invalid {
			t.Errorf("%s: checkName(%q) = %v, want 400", name, in, err)
		}
	}
}
