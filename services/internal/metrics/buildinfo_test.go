package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/internal/metrics"
)

// Every service's /metrics says which release it runs (issue 15).
func TestHandler_ServesBuildInfo(t *testing.T) {
	rec := httptest.NewRecorder()
	metrics.New("auth").Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out, _ := io.ReadAll(rec.Body)
	i := version.Get()
	want := `littleecom_build_info{goversion="` + i.GoVersion + `",program="auth",revision="` + i.Revision +
		`",version="` + i.Version + `"} 1`
	if !strings.Contains(string(out), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
