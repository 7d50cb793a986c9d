package backend

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"littleecom.io/littleecom/services/internal/problem"
)

// Bounds of an item. Prices are money with cents: from one cent to a million, at most two
// decimals (12.5 and 12.50 are the same price; 12.505 is refused rather than rounded, so a
// client never sells for something it did not send). A float64 holds every such price to
// far better than a cent, and the stored price is the nearest float to the cents given.
const (
	MinPrice    = 0.01
	MaxPrice    = 1_000_000
	MaxNameLen  = 200 // characters (code points), after trimming
	priceDigits = 2
)

// checkPrice refuses a price outside [MinPrice, MaxPrice] or with more than two decimals,
// and returns it rounded to its cents (removing the binary noise of 0.1+0.2).
func checkPrice(p float64) (float64, error) {
	if math.IsNaN(p) || p < MinPrice || p > MaxPrice {
		return 0, problem.Invalidf("price must be from %.2f to %.2f", MinPrice, float64(MaxPrice))
	}
	scale := math.Pow10(priceDigits)
	cents := math.Round(p * scale)
	if math.Abs(p*scale-cents) > 1e-6 {
		return 0, problem.Invalidf("price must have at most %d decimals", priceDigits)
	}
	return cents / scale, nil
}

// checkName trims a name and refuses it empty, longer than MaxNameLen characters, or holding
// a character that is not text a person reads: control characters (Cc: line breaks, tabs,
// NUL), format characters (Cf: bidi overrides and isolates such as U+202E that reorder what
// follows, zero-width spaces and joiners, soft hyphens, BOMs), line and paragraph separators,
// surrogates, private-use and unassigned code points, and U+FFFD (what invalid UTF-8 became).
// Such characters let a listing look like another, or like a different price, in a shop page
// or in the e-mails the notifier sends.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", problem.Invalidf("name must not be empty")
	case n > MaxNameLen:
		return "", problem.Invalidf("name must be at most %d characters (it has %d)", MaxNameLen, n)
	}
	for i, r := range name {
		if !readable(r) {
			return "", problem.Invalidf("name must not contain control, format or invisible characters (U+%04X at byte %d)", r, i)
		}
	}
	return name, nil
}

// readable reports whether r is a character a name may hold.
func readable(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp):
		return false
	}
	// Unassigned code points (Cn) have no table of their own: anything in no category is one.
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs)
}
