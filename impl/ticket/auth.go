package ticket

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// Authority is one process's view of the auth key: verify_ticket,
// assemble_ticket, check_authkey and rotate_authkey over a KeyCache.
type Authority struct {
	Files    Files
	Cache    KeyCache
	Spec     Spec
	LockPath string // the cluster lock (flock), in the shared directory
	KeyBits  int
	Digest   crypto.Hash
	// KeyLifetime is authkey_lifetime (24 h); 0 disables rotation.
	KeyLifetime time.Duration
	Now         func() time.Time
	// Logf receives PVE's warnings ("auth key pair too old, rotating..").
	Logf func(format string, args ...any)

	rotations atomic.Int64
}

// NewAuthority builds a process's authority for strategy name.
func NewAuthority(files Files, lockPath, strategy string, o Options) (*Authority, error) {
	spec, err := LookupStrategy(strategy)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Authority{
		Files: files, Cache: spec.New(files, o), Spec: spec, LockPath: lockPath,
		KeyBits: DefaultKeyBits, Digest: DefaultDigest, KeyLifetime: KeyLifetime, Now: o.Now,
	}, nil
}

func (a *Authority) logf(format string, args ...any) {
	if a.Logf != nil {
		a.Logf(format, args...)
	}
}

// Rotations counts the rotations this process performed.
func (a *Authority) Rotations() int64 { return a.rotations.Load() }

// Verify is verify_ticket: the current key with its age range, then the
// old one. The returned data is the user; errors never include the ticket.
func (a *Authority) Verify(t string) (string, error) {
	p, err := Parse(Prefix, t)
	if err != nil {
		return "", err
	}
	now := a.Now().Unix()
	var errs []error
	for _, kind := range []KeyKind{Current, Old} {
		k, err := a.Cache.Get(kind)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s key: %w", kind, err))
			continue
		}
		if k == nil {
			errs = append(errs, fmt.Errorf("%s key: %w", kind, ErrNoKey))
			continue
		}
		r, ok := TicketAgeRange(now, k.Mtime, kind == Old, a.KeyLifetime)
		if !ok {
			errs = append(errs, fmt.Errorf("%s key: %w: key too old for any ticket", kind, ErrAge))
			continue
		}
		var verr error
		pprof.Do(context.Background(), pprof.Labels("phase", "verify"), func(context.Context) {
			verr = VerifyWith(p, k.Pub, a.Digest, r, now)
		})
		if verr == nil {
			return p.Data, nil
		}
		errs = append(errs, fmt.Errorf("%s key: %w", kind, verr))
	}
	return "", errors.Join(errs...)
}

// CheckAuthkey is check_authkey: true when the current key exists and is
// young enough (or from the future but within the old key's grace).
func (a *Authority) CheckAuthkey() (bool, *Key, error) {
	k, err := a.Cache.Get(Current)
	if err != nil {
		return false, nil, err
	}
	if k == nil {
		a.logf("auth key pair missing, generating new one..")
		return false, nil, nil
	}
	now := a.Now().Unix()
	grace, life := int64(GracePeriod/time.Second), int64(TicketLifetime/time.Second)
	switch {
	case a.KeyLifetime > 0 && now-k.Mtime >= int64(a.KeyLifetime/time.Second):
		a.logf("auth key pair too old, rotating..")
		return false, k, nil
	case k.Mtime > now+grace:
		old, _ := a.Cache.Get(Old)
		if old != nil && k.Mtime >= old.Mtime && k.Mtime-old.Mtime < life {
			return true, k, nil
		}
		a.logf("auth key pair generated in the future (key %d > host %d), rotating..", k.Mtime, now)
		return false, k, nil
	}
	return true, k, nil
}

// MaybeRotate runs PVE's periodic check: check_authkey, and when it says
// so rotate_authkey. It reports whether this call rotated.
func (a *Authority) MaybeRotate() (bool, error) {
	if a.KeyLifetime == 0 {
		return false, nil
	}
	ok, seen, err := a.CheckAuthkey()
	if err != nil {
		// A corrupt current key is rotated away, as PVE's undefined key is.
		a.logf("auth key unreadable (%v), rotating..", err)
	} else if ok {
		return false, nil
	}
	return a.rotate(seen)
}

// rotate is rotate_authkey. seen is the current key the decision was based
// on (nil if missing), for strategies that re-check by content.
func (a *Authority) rotate(seen *Key) (bool, error) {
	unlock, err := Lock(a.LockPath)
	if err != nil {
		return false, err
	}
	defer unlock()
	a.Cache.Revalidate()
	if a.Spec.ContentRecheck {
		now, err := a.Cache.Get(Current)
		if err == nil && now != nil && (seen == nil || now.Sum != seen.Sum) {
			return false, nil // someone rotated since we decided
		}
	}
	ok, _, err := a.CheckAuthkey()
	if err == nil && ok {
		return false, nil
	}
	old, oerr := a.Cache.Get(Current)
	if oerr != nil {
		old = nil // unreadable current key: nothing to keep as old
	}
	priv, err := GenerateKey(a.KeyBits)
	if err != nil {
		return false, err
	}
	if old != nil {
		pem, err := PublicPEM(old.Pub)
		if err != nil {
			return false, err
		}
		if err := setContents(a.Files.Path(Old), pem, 0o644); err != nil {
			return false, fmt.Errorf("failed to store old auth key: %w", err)
		}
	}
	pubPEM, err := PublicPEM(&priv.PublicKey)
	if err != nil {
		return false, err
	}
	if err := setContents(a.Files.Path(Current), pubPEM, 0o644); err != nil {
		if old == nil {
			return false, fmt.Errorf("failed to store new auth key: %w", err)
		}
		a.logf("failed to store new auth key (%v), reverting to previous auth key", err)
		prev, _ := PublicPEM(old.Pub)
		if rerr := setContents(a.Files.Path(Current), prev, 0o644); rerr != nil {
			return false, fmt.Errorf("failed to restore old auth key: %w", rerr)
		}
		return false, fmt.Errorf("failed to store new auth key: %w", err)
	}
	if err := setContents(a.Files.Path(Private), PrivatePEM(priv), 0o600); err != nil {
		a.logf("failed to store new auth key (%v), deleting auth key to force regeneration", err)
		os.Remove(a.Files.Path(Current))
		os.Remove(a.Files.Path(Private))
		return true, fmt.Errorf("store private key: %w", err)
	}
	a.rotations.Add(1)
	return true, nil
}

// Assemble is assemble_ticket: get_privkey (rotating first when the key
// is missing or too old) and sign user.
func (a *Authority) Assemble(user string) (string, error) {
	k, err := a.Cache.Get(Private)
	ok, _, cerr := a.CheckAuthkey()
	if err != nil || k == nil || cerr != nil || !ok {
		if _, rerr := a.MaybeRotateForce(); rerr != nil {
			return "", rerr
		}
		if k, err = a.Cache.Get(Private); err != nil {
			return "", err
		}
		if k == nil {
			return "", fmt.Errorf("ticket: no private key after rotation")
		}
	}
	return Assemble(k.Priv, a.Digest, Prefix, user, a.Now())
}

// MaybeRotateForce is get_privkey's path: rotate_authkey without the
// outer check (the lock re-check still decides).
func (a *Authority) MaybeRotateForce() (bool, error) {
	_, seen, _ := a.CheckAuthkey()
	return a.rotate(seen)
}
