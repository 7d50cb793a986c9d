package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sync"
	"time"

	"littleecom.io/littleecom/services/internal/httpx"
)

// The original little-ecom backend runs beside ours on the same FerretDB (its own database,
// "ecommerce", as it always used) and the same RabbitMQ vhost, built by original/build.sh
// with its hard-coded addresses read from the environment. It asks auth's /auth/validate
// about every token; the load generator answers for the tokens it signed, as auth would
// ({"email","exp"}), so that only the original's own work is in its CPU figures.

// validator answers /auth/validate for the tokens drive signed.
type validator struct {
	mu     sync.Mutex
	emails map[string]string // token -> e-mail
}

func (v *validator) add(token, email string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.emails == nil {
		v.emails = map[string]string{}
	}
	v.emails[token] = email
}

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	v.mu.Lock()
	email, ok := v.emails[in.Token]
	v.mu.Unlock()
	if !ok {
		http.Error(w, "unknown token", http.StatusUnauthorized)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"email": email, "exp": time.Now().Add(time.Hour).Unix()})
}

// startOriginal runs the original backend at bin on a free loopback port and waits until it
// listens (it does once MongoDB and RabbitMQ are set up). It cannot be changed to take a socket, but it passes ORIGINAL_ADDR
// to http.ListenAndServe, which binds port 0 like any other: the port it got is read back,
// so no retry on "address in use" is needed.
func startOriginal(ctx context.Context, bin, mongoURI, amqpURL, authURL string, logs *os.File) (*child, string, error) {
	env := []string{
		"ORIGINAL_MONGODB_URI=" + mongoURI,
		"ORIGINAL_AMQP_URL=" + amqpURL,
		"ORIGINAL_AUTH_URL=" + authURL,
		"ORIGINAL_ADDR=127.0.0.1:0",
	}
	c, err := startProgram("original", bin, nil, env, logs, nil)
	if err != nil {
		return nil, "", err
	}
	addr, err := boundAddr(ctx, c, 30*time.Second)
	if err != nil {
		c.stop()
		return nil, "", err
	}
	return c, addr, nil
}
