package k8s

import (
	"context"
	"errors"
	"strings"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/token/cache"
	"k8s.io/apiserver/pkg/authentication/user"
)

// kube-apiserver's defaults for the token cache in front of all token
// authenticators: kubernetes/kubernetes pkg/kubeapiserver/options/
// authentication.go, NewBuiltInAuthenticationOptions (TokenSuccessCacheTTL
// 10 s, TokenFailureCacheTTL 0), applied in pkg/kubeapiserver/
// authenticator/config.go as tokencache.New(tokenAuth, true, success,
// failure). (The webhook authenticator's own cache defaults to 2 min,
// --authentication-token-webhook-cache-ttl.)
const (
	DefaultSuccessTTL = 10 * time.Second
	DefaultFailureTTL = 0
)

// Checker is the slow check the cache decorates: ok reports a verified
// (id, secret); err reports that the check could not be made.
type Checker interface {
	Check(ctx context.Context, id, secret string) (ok bool, err error)
}

// Options are the cache's TTLs; zero values mean kube-apiserver's defaults.
// A negative FailureTTL is refused.
type Options struct {
	SuccessTTL, FailureTTL time.Duration
}

// Cache is Kubernetes' token cache over a Checker. It keys entries by
// HMAC-SHA256 of the token under a per-process key, shares concurrent
// misses with singleflight, and expires entries on the wall clock (its
// clock cannot be injected from outside the package: New takes none).
type Cache struct {
	auth authenticator.Token
}

// New builds the cache; it returns an error for negative TTLs.
func New(c Checker, o Options) (*Cache, error) {
	if o.SuccessTTL < 0 || o.FailureTTL < 0 {
		return nil, errors.New("k8s cache: negative TTL")
	}
	if o.SuccessTTL == 0 {
		o.SuccessTTL = DefaultSuccessTTL
	}
	// cacheErrs true as kube-apiserver passes it; Check maps rejections to
	// ok=false, so only failed checks are errors.
	return &Cache{auth: cache.New(tokenChecker{c}, true, o.SuccessTTL, o.FailureTTL)}, nil
}

// Verify reports whether secret is id's current secret, as cached. The id
// must not contain ':' (PBS token ids cannot), which keeps the joined
// token unambiguous; callers validate it first.
func (c *Cache) Verify(ctx context.Context, id, secret string) (bool, error) {
	if strings.Contains(id, ":") {
		return false, errors.New("k8s cache: token id contains ':'")
	}
	_, ok, err := c.auth.AuthenticateToken(ctx, id+":"+secret)
	return ok, err
}

// tokenChecker is the authenticator.Token the cache wraps.
type tokenChecker struct{ c Checker }

func (t tokenChecker) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	id, secret, found := strings.Cut(token, ":")
	if !found {
		return nil, false, nil
	}
	ok, err := t.c.Check(ctx, id, secret)
	if err != nil || !ok {
		return nil, false, err
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: id}}, true, nil
}
