package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/authbench/authbench/impl"
)

// serveAuthenticated is the token-auth middleware. The request runs under
// verifier=<name>,outcome=fast; the verifier relabels its own slow path,
// and once the outcome is known the rest of the request is labelled with
// it (or outcome=rejected), so profiles attribute the handler and the
// response writing to the path the request actually took.
func (s *Server) serveAuthenticated(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request)) {
	pprof.Do(r.Context(), s.labelsAuth, func(ctx context.Context) {
		outcome, ok := s.authenticate(ctx, r)
		if !ok {
			pprof.Do(ctx, s.labelsRejected, func(context.Context) { s.unauthorized(w) })
			return
		}
		if outcome == impl.OutcomeFast {
			// The labels already say outcome=fast (the verifier's own
			// relabelling, if any, ended when Verify returned): relabelling
			// would only cost two allocations on the hot path.
			h(w, r)
			return
		}
		pprof.Do(ctx, s.labelsOutcome[outcome], func(context.Context) { h(w, r) })
	})
}

// authenticate reports whether r carries a valid token. Every failure,
// a panic included, is a plain false: the client learns nothing about the
// cause and the server never answers 500 for an auth problem.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (outcome impl.Outcome, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			s.notePanic(p)
			ok = false
		}
	}()
	creds, err := s.accepted.Parse(r.Header.Get("Authorization"))
	if err != nil {
		return impl.OutcomeFast, false
	}
	if impl.ValidateTokenID(creds.TokenID) != nil {
		return impl.OutcomeFast, false
	}
	outcome, err = s.verifier.Verify(ctx, creds.TokenID, creds.Secret)
	s.noteHealth(outcome, err)
	if int(outcome) >= len(s.labelsOutcome) { // a verifier bug; never index out of range
		outcome = impl.OutcomeSlow
	}
	return outcome, err == nil
}

func (s *Server) unauthorized(w http.ResponseWriter) {
	w.Header()["Www-Authenticate"] = s.challenge
	s.write(w, http.StatusUnauthorized, bodyUnauthorized)
}

// notePanic counts a recovered panic and logs only the first one, so a
// verifier that panics on every request cannot flood the log. The panic
// value is logged only for runtime errors: any other value could have been
// built from request data, secret included. The stack holds no string
// contents, only addresses.
func (s *Server) notePanic(p any) {
	if s.panics.Add(1) != 1 {
		return
	}
	value := fmt.Sprintf("%T", p)
	if re, ok := p.(runtime.Error); ok {
		value = re.Error()
	}
	s.log.Error("panic in auth path, request rejected with 401 (later panics are only counted in /authbench/stats)",
		"verifier", s.verifier.Name(), "panic", value, "stack", string(debug.Stack()))
}

// noteHealth tracks whether the shadow file is usable and logs transitions
// only. A failure whose cause is the file itself (impl.ShadowError, or an
// os error such as EACCES) marks it unhealthy; a verification that read the
// file (any non-fast outcome) without such an error marks it healthy again.
// Unknown tokens and wrong secrets say nothing about the file. In the
// steady state this costs one atomic load.
func (s *Server) noteHealth(outcome impl.Outcome, err error) {
	if err != nil {
		if cause := fileError(err); cause != nil {
			if s.unhealthy.CompareAndSwap(false, true) {
				s.log.Error("token.shadow unreadable; every token is rejected until it is fixed",
					"path", s.shadowPath(cause), "error", cause.Error())
			}
			return
		}
	}
	if outcome != impl.OutcomeFast && s.unhealthy.Load() && s.unhealthy.CompareAndSwap(true, false) {
		s.log.Info("token.shadow readable again", "path", s.shadowPath(nil))
	}
}

// fileError returns the file-level cause inside a verification error, or
// nil. Its message names the file and the problem but never file content.
func fileError(err error) error {
	var se *impl.ShadowError
	if errors.As(err, &se) {
		return se
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

func (s *Server) shadowPath(cause error) string {
	if s.opts.Store != nil {
		return s.opts.Store.Path()
	}
	var se *impl.ShadowError
	if errors.As(cause, &se) {
		return se.Path
	}
	var pe *fs.PathError
	if errors.As(cause, &pe) {
		return pe.Path
	}
	return ""
}
