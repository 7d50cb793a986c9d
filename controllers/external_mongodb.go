package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// ExternalMongoDB checks the databases of shops with spec.mongodb.external: it connects the
// way the services do (the Secret's URI, its username and password against the admin
// database when present) and pings the primary. The zero value is the production setting.
type ExternalMongoDB struct {
	// Timeout bounds one check: SRV lookup, TLS, handshake, authentication and the ping.
	// A database that is down holds a reconcile worker this long. Default 5 s.
	Timeout time.Duration
	// Resync is how often a shop's database is pinged again when nothing else changed: a
	// database that goes away or comes back shows within it. Reconciles in between reuse the
	// last answer. Default 30 s.
	Resync time.Duration
}

// Defaults of ExternalMongoDB.
const (
	defaultExternalTimeout = 5 * time.Second
	defaultExternalResync  = 30 * time.Second
	// mongoCodeAuthenticationFailed is the server's AuthenticationFailed error code.
	mongoCodeAuthenticationFailed = 18
)

func (e ExternalMongoDB) timeout() time.Duration { return cmp.Or(e.Timeout, defaultExternalTimeout) }
func (e ExternalMongoDB) resync() time.Duration  { return cmp.Or(e.Resync, defaultExternalResync) }

// externalConnection is what the Secret says about the database.
type externalConnection struct {
	uri, username, password string
}

// externalObservation is the outcome of one check, for MongoDBReady. Its message is safe to
// show: it names the Secret, its keys and the hosts, never a password or the URI itself.
type externalObservation struct {
	reason  string
	message string
}

// check pings the database of conn; source names the Secret and key for messages.
func (e ExternalMongoDB) check(ctx context.Context, conn externalConnection, source string) externalObservation {
	timeout := e.timeout()
	opts := options.Client().
		ApplyURI(conn.uri).
		SetAppName("littleecom-operator").
		SetConnectTimeout(timeout).
		SetServerSelectionTimeout(timeout).
		SetTimeout(timeout).
		SetMaxPoolSize(1)
	if conn.username != "" {
		// As the services do (mongox): separate credentials win over the URI's.
		opts.SetAuth(options.Credential{Username: conn.username, Password: conn.password, AuthSource: adminDatabase})
	}
	if err := opts.Validate(); err != nil {
		return conn.invalidOrUnreachable(source, err)
	}
	hosts := strings.Join(opts.Hosts, ",")
	mc, err := mongo.Connect(opts)
	if err != nil {
		return conn.invalidOrUnreachable(source, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		_ = mc.Disconnect(dctx)
	}()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = mc.Ping(pctx, readpref.Primary())
	switch {
	case err == nil:
		return externalObservation{shopv1.ReasonExternalReachable,
			fmt.Sprintf("the primary of %s answered a ping (%s)", hosts, source)}
	case isAuthError(err):
		return externalObservation{shopv1.ReasonExternalAuthFailed,
			fmt.Sprintf("%s refused the credentials of %s: %s", hosts, source, conn.redact(err.Error()))}
	default:
		return externalObservation{shopv1.ReasonExternalUnreachable,
			fmt.Sprintf("no primary of %s answered a ping within %s (%s): %s", hosts, timeout, source, conn.redact(err.Error()))}
	}
}

// invalidOrUnreachable explains an error met before any server was asked: a URI that does
// not parse, or a mongodb+srv:// name that does not resolve (the driver looks it up while
// parsing).
func (c externalConnection) invalidOrUnreachable(source string, err error) externalObservation {
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return externalObservation{shopv1.ReasonExternalUnreachable,
			fmt.Sprintf("the hosts of %s cannot be looked up: %s", source, c.redact(err.Error()))}
	}
	msg := c.redact(err.Error())
	// The driver's complaint about malformed credentials may quote a piece of them.
	if lower := strings.ToLower(msg); strings.Contains(lower, "password") || strings.Contains(lower, "username") ||
		strings.Contains(lower, "user info") {
		msg = "the credentials in the URI are malformed: percent-encode : / ? # [ ] @ and % in the username and password"
	}
	return externalObservation{shopv1.ReasonExternalSecretInvalid,
		fmt.Sprintf("%s is not a valid mongodb:// or mongodb+srv:// connection string: %s", source, msg)}
}

// isAuthError says whether the server refused the credentials (or the mechanism).
func isAuthError(err error) bool {
	if _, ok := errors.AsType[*auth.Error](err); ok {
		return true
	}
	ce, ok := errors.AsType[mongo.CommandError](err)
	return ok && ce.Code == mongoCodeAuthenticationFailed
}

// redact removes from msg every form of the connection's secrets: the URI, the credentials
// in it (raw and percent-decoded) and the password. Driver errors name hosts, not
// credentials, but a message that reaches the status and events must not depend on that.
func (c externalConnection) redact(msg string) string {
	secrets := []string{c.uri, c.password}
	if _, rest, ok := strings.Cut(c.uri, "://"); ok {
		// Everything up to the last @ is the user info, however badly it is escaped.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			info := rest[:at]
			secrets = append(secrets, info)
			if _, pass, ok := strings.Cut(info, ":"); ok {
				secrets = append(secrets, pass)
				if dec, err := url.PathUnescape(pass); err == nil {
					secrets = append(secrets, dec)
				}
			}
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}
