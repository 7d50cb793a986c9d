package backend

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"littleecom.io/littleecom/services/backend/store"
)

// Listings are encoded by hand: encoding/json's reflection cost more CPU than everything
// else in GET /items together. The output is byte for byte what encoding/json writes for
// []itemJSON (a test compares them), HTML-safe escaping included; single items likewise.

func appendItems(b []byte, items []store.Item) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, it)
	}
	return append(b, "]\n"...)
}

// appendItem encodes one item as encoding/json does its itemJSON, without a newline.
func appendItem(b []byte, it store.Item) []byte {
	b = append(b, `{"id":"`...)
	b = hex.AppendEncode(b, it.ID[:])
	b = append(b, `","owner":`...)
	b = appendString(b, it.Owner)
	b = append(b, `,"name":`...)
	b = appendString(b, it.Name)
	b = append(b, `,"price":`...)
	b = appendFloat(b, it.Price)
	return append(b, '}')
}

// writeItem answers with one item: the same header and bytes as httpx.WriteJSON of its
// itemJSON (json.Encoder ends with a newline).
func writeItem(w http.ResponseWriter, it store.Item) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(appendItem(make([]byte, 0, 128), it), '\n'))
}

// appendString quotes s as encoding/json does: plain printable ASCII directly, anything
// else (escapes, HTML characters, non-ASCII) through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat formats f as encoding/json does (its floatEncoder). Prices are finite: the
// handlers refuse anything else.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
