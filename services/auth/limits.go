package auth

import (
	"context"
	"net/http"
	"time"

	"littleecom.io/littleecom/services/auth/store"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

// The limits follow what the established identity providers do (Auth0's brute-force
// protection and suspicious-IP throttling, Keycloak's per-user failure counts refined per
// client): a sign-in is refused only by failures, counted
//
//   - per account and client (an IPv4 address or an IPv6 /64, see client): a guesser on one
//     network exhausts their own budget for that account, while the owner signing in from
//     a network that has not failed is not locked out;
//   - per client over all accounts: one network spraying passwords across many accounts.
//
// A right password spends nothing, so any number of shoppers behind one office NAT or
// carrier gateway sign in. Registration is counted per client (a burst of a few dozen a
// minute still passes: offices share addresses) and for the whole shop (each costs a bcrypt
// hash, and with verification a mail).

// signInWindow is the window of the sign-in failure limits.
const signInWindow = 15 * time.Minute

// registerWindow is the window of the registration limits.
const registerWindow = time.Minute

// limits are the service's shared limiters.
type limits struct {
	signInAccount  *store.Limiter // failed sign-ins per (account, client)
	signInClient   *store.Limiter // failed sign-ins per client
	registerClient *store.Limiter // registrations per client
	registerAll    *store.Limiter // registrations, all clients together
	verifyMails    *store.Limiter // verification mails per account
}

// Limiter scopes: the first part of a slot's _id.
const (
	scopeSignInAccount  = "signin-account"
	scopeSignInClient   = "signin-client"
	scopeRegisterClient = "register-client"
	scopeRegisterAll    = "register"
	scopeVerifyMail     = "verify-mail"
)

// verifyMailsPerHour bounds the verification mails one account can cause: each sign-in with
// the right password of an unverified account asks for a new one.
const verifyMailsPerHour = 3

func newLimits(st *store.Store, cfg Config) limits {
	return limits{
		signInAccount:  st.Limiter(scopeSignInAccount, cfg.SignInFailuresPerAccount, signInWindow),
		signInClient:   st.Limiter(scopeSignInClient, cfg.SignInFailuresPerClient, signInWindow),
		registerClient: st.Limiter(scopeRegisterClient, cfg.RegisterPerClient, registerWindow),
		registerAll:    st.Limiter(scopeRegisterAll, cfg.RegisterPerMinute, registerWindow),
		verifyMails:    st.Limiter(scopeVerifyMail, verifyMailsPerHour, time.Hour),
	}
}

// signInAttempt holds the failure slots a sign-in took before its password was compared.
type signInAttempt struct {
	tickets []store.Ticket
}

// forgive gives the slots back: the attempt did not fail.
func (a signInAttempt) forgive(ctx context.Context) { refundAll(ctx, a.tickets...) }

// refundAll gives slots back. A failure to give one back only leaves it counted until its
// window ends; it is logged, not answered.
func refundAll(ctx context.Context, tickets ...store.Ticket) {
	// Detached from the request: a client that hangs up must not leave its slots counted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, t := range tickets {
		if err := t.Refund(ctx); err != nil {
			httpx.LoggerFrom(ctx).Warn("limit slot not given back", "err", err)
		}
	}
}

// startSignIn takes a failure slot from the client's budget, then one from the account's on
// this client, before the password is compared: concurrent guesses get no more comparisons
// than the budget. A refusal costs the client nothing.
func (s *Service) startSignIn(r *http.Request, email string) (signInAttempt, error) {
	ctx := r.Context()
	cl := client(r, s.cfg.TrustedProxies)
	byClient, ok, wait, err := s.limits.signInClient.Take(ctx, cl)
	if err != nil {
		return signInAttempt{}, problem.Internal(err)
	}
	if !ok {
		httpx.LoggerFrom(ctx).Warn("sign-in refused: too many failures from the client", "by", "client")
		return signInAttempt{}, problem.TooManyf(wait, "too many failed sign-ins from your network; retry later")
	}
	byAccount, ok, wait, err := s.limits.signInAccount.Take(ctx, email+"\x00"+cl)
	if err != nil || !ok {
		refundAll(ctx, byClient)
	}
	if err != nil {
		return signInAttempt{}, problem.Internal(err)
	}
	if !ok {
		httpx.LoggerFrom(ctx).Warn("sign-in refused: too many failures for the account from the client", "by", "account")
		return signInAttempt{}, problem.TooManyf(wait, "too many failed sign-ins for this account from your network; retry later")
	}
	return signInAttempt{tickets: []store.Ticket{byClient, byAccount}}, nil
}

// limitRegistration counts a registration for the client, then for the whole shop.
func (s *Service) limitRegistration(r *http.Request) error {
	ctx := r.Context()
	byClient, ok, wait, err := s.limits.registerClient.Take(ctx, client(r, s.cfg.TrustedProxies))
	if err != nil {
		return problem.Internal(err)
	}
	if !ok {
		httpx.LoggerFrom(ctx).Warn("registration refused: too many from the client", "by", "client")
		return problem.TooManyf(wait, "too many registrations from your network; retry later")
	}
	_, ok, wait, err = s.limits.registerAll.Take(ctx, "all")
	if err != nil || !ok {
		refundAll(ctx, byClient)
	}
	if err != nil {
		return problem.Internal(err)
	}
	if !ok {
		httpx.LoggerFrom(ctx).Warn("registration refused: the shop's limit is reached", "by", "shop")
		return problem.TooManyf(wait, "the shop takes no more registrations right now; retry later")
	}
	return nil
}
