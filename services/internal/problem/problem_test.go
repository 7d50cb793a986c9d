package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/problem"
)

func TestWrite_MapsCodesToStatuses(t *testing.T) {
	secret := errors.New("E11000 duplicate key on ecom.items password=hunter2")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantRetry  string
	}{
		{"invalid", problem.Invalidf("price must be > 0"), 400, "price must be > 0", ""},
		{"unauthorized", problem.Unauthorizedf("bad token"), 401, "bad token", ""},
		{"forbidden", problem.Forbiddenf("not the owner"), 403, "not the owner", ""},
		{"not found", problem.NotFoundf("item %s", "abc"), 404, "item abc", ""},
		{"conflict", problem.Conflictf("sold"), 409, "sold", ""},
		{"too large", problem.PayloadTooLargef("big"), 413, "big", ""},
		{"too many", problem.TooManyf(1500*time.Millisecond, "slow down"), 429, "slow down", "2"},
		{"unavailable", problem.Unavailablef("broker down"), 503, "broker down", ""},
		{"internal hides cause", problem.Internal(secret), 500, "internal error", ""},
		{"plain error is internal", secret, 500, "internal error", ""},
		{"wrapped problem keeps code", fmt.Errorf("buy: %w", problem.Conflictf("sold")), 409, "sold", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/item/1", nil)
			problem.Write(rec, req, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
			var body problem.Body
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if body.Status != tt.wantStatus || body.Detail != tt.wantDetail || body.Instance != "/item/1" ||
				body.Title != http.StatusText(tt.wantStatus) || body.Type == "" {
				t.Errorf("body = %+v", body)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Errorf("internal detail leaked: %s", rec.Body)
			}
		})
	}
}

func TestError_UnwrapAndCodeOf(t *testing.T) {
	cause := errors.New("boom")
	err := fmt.Errorf("ctx: %w", problem.Internal(cause))
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not see the cause")
	}
	if got := problem.CodeOf(err); got != problem.CodeInternal {
		t.Errorf("CodeOf = %q", got)
	}
	if got := problem.CodeOf(nil); got != "" {
		t.Errorf("CodeOf(nil) = %q", got)
	}
}
