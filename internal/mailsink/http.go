package mailsink

import (
	"encoding/json"
	"net/http"
)

// Handler serves Messages as a JSON array ([] when empty), for the local dev runner's
// GET /dev/mail: a person trying the shop sees the e-mails it would have sent.
func (s *Sink) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.Messages())
	})
}
