package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/loadgen"
)

func runToken(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitCode(2, errors.New("usage: bench token add|rotate|delete|list|gen|verify --shadow PATH ..."))
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	shadow := fs.String("shadow", "", "path of token.shadow (required)")
	scheme := fs.String("scheme", "sha256", "hash scheme for new secrets: sha256, sha512, yescrypt")
	cost := fs.Int("cost", 0, "hash cost (rounds for sha*, yescrypt cost); 0 = default")
	count := fs.Int("count", 0, "gen: number of tokens to create")
	out := fs.String("out", "", "gen: file for the new secrets (mode 0600)")
	prefix := fs.String("prefix", "bench@pbs!t", "gen: token ids are PREFIX<n>")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if *shadow == "" {
		return exitCode(2, errors.New("--shadow is required"))
	}
	// Validate the subcommand before OpenStore, which creates the
	// generation file next to the shadow.
	if !slices.Contains([]string{"add", "rotate", "delete", "list", "gen", "verify"}, sub) {
		return exitCode(2, fmt.Errorf("unknown token subcommand %q", sub))
	}
	sch, err := cryptpw.ParseScheme(*scheme)
	if err != nil {
		return exitCode(2, err)
	}
	store, err := impl.OpenStore(*shadow, impl.StoreOptions{Scheme: sch, Cost: *cost})
	if err != nil {
		return err
	}
	defer store.Close()
	oneID := func() (string, error) {
		if fs.NArg() != 1 {
			return "", exitCode(2, fmt.Errorf("token %s takes exactly one TOKENID", sub))
		}
		id := fs.Arg(0)
		return id, impl.ValidateTokenID(id)
	}

	switch sub {
	case "add", "rotate":
		id, err := oneID()
		if err != nil {
			return err
		}
		var secret string
		if sub == "add" {
			secret, err = store.Add(ctx, id)
		} else {
			secret, err = store.Rotate(ctx, id)
		}
		if err != nil {
			return err
		}
		// The one and only time the secret is shown.
		fmt.Fprintln(stdout, secret)
		return nil
	case "delete":
		id, err := oneID()
		if err != nil {
			return err
		}
		return store.Delete(ctx, id)
	case "list":
		ids, err := store.List()
		if err != nil {
			return err
		}
		for _, id := range ids {
			fmt.Fprintln(stdout, id)
		}
		return nil
	case "gen":
		if *count <= 0 || *out == "" {
			return exitCode(2, errors.New("token gen needs --count N (>0) and --out FILE"))
		}
		ids := make([]string, *count)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s%d", *prefix, i)
		}
		secrets, err := store.AddBatch(ctx, ids)
		if err != nil {
			return err
		}
		toks := make([]loadgen.Token, len(ids))
		for i := range ids {
			toks[i] = loadgen.Token{ID: ids[i], Secret: secrets[i]}
		}
		if err := loadgen.WriteTokens(*out, toks); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %d tokens; secrets in %s\n", len(ids), *out)
		return nil
	case "verify":
		id, err := oneID()
		if err != nil {
			return err
		}
		return verifyFromStdin(ctx, store, id, stdin)
	}
	return exitCode(2, fmt.Errorf("unknown token subcommand %q", sub))
}

// verifyFromStdin exits 0 when the secret verifies, 1 when it does not and
// 2 when the file or its hash cannot be used.
func verifyFromStdin(ctx context.Context, store *impl.Store, id string, stdin io.Reader) error {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read secret from stdin: %w", err)
	}
	secret := strings.TrimRight(line, "\r\n")
	v, err := impl.New("uncached", impl.Config{Store: store})
	if err != nil {
		return err
	}
	defer impl.Close(v)
	_, err = v.Verify(ctx, id, secret)
	var se *impl.ShadowError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se), errors.Is(err, cryptpw.ErrMalformed), errors.Is(err, cryptpw.ErrUnsupported):
		return exitCode(2, err)
	default:
		return exitCode(1, errors.New("not verified"))
	}
}
