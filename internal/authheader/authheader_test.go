package authheader

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const uuid = "0b8c1f3e-7d1a-4f5e-9c2b-3a4d5e6f7a8b"

func TestParse(t *testing.T) {
	long := strings.Repeat("a", MaxSecretLen)
	tests := []struct {
		name    string
		header  string
		want    Credentials
		wantErr error
	}{
		// PBS / PDM.
		{"pbs", "PBSAPIToken=root@pam!t1:" + uuid, Credentials{FormPBS, "root@pam!t1", uuid}, nil},
		{"pbs space", "PBSAPIToken root@pam!t1:" + uuid, Credentials{FormPBS, "root@pam!t1", uuid}, nil},
		{"pdm", "PDMAPIToken=admin@pdm!ci:" + uuid, Credentials{FormPDM, "admin@pdm!ci", uuid}, nil},
		{"pdm space", "PDMAPIToken admin@pdm!ci:" + uuid, Credentials{FormPDM, "admin@pdm!ci", uuid}, nil},
		{"pbs secret keeps later colons", "PBSAPIToken=a@pbs!t:x:y:z", Credentials{FormPBS, "a@pbs!t", "x:y:z"}, nil},
		{"pbs percent-encoded secret", "PBSAPIToken=a@pbs!t:s%3Ae%2fc%25", Credentials{FormPBS, "a@pbs!t", "s:e/c%"}, nil},
		{"pbs plus stays plus", "PBSAPIToken=a@pbs!t:a+b", Credentials{FormPBS, "a@pbs!t", "a+b"}, nil},
		{"pbs encoded UTF-8", "PBSAPIToken=a@pbs!t:%C3%A4", Credentials{FormPBS, "a@pbs!t", "ä"}, nil},
		{"pbs '=' in secret", "PBSAPIToken=a@pbs!t:x=y", Credentials{FormPBS, "a@pbs!t", "x=y"}, nil},
		{"pbs id not validated here", "PBSAPIToken=nobang:s", Credentials{FormPBS, "nobang", "s"}, nil},
		{"pbs secret at limit", "PBSAPIToken=a@pbs!t:" + long, Credentials{FormPBS, "a@pbs!t", long}, nil},
		{"pbs secret over limit", "PBSAPIToken=a@pbs!t:" + long + "a", Credentials{}, ErrMalformed},
		{"pbs encoded secret over raw limit", "PBSAPIToken=a@pbs!t:" + strings.Repeat("%41", 342), Credentials{}, ErrMalformed},
		{"pbs invalid escape", "PBSAPIToken=a@pbs!t:ab%zz", Credentials{}, ErrMalformed},
		{"pbs truncated escape", "PBSAPIToken=a@pbs!t:ab%4", Credentials{}, ErrMalformed},
		{"pbs lone percent", "PBSAPIToken=a@pbs!t:%", Credentials{}, ErrMalformed},
		{"pbs decodes to non-UTF-8", "PBSAPIToken=a@pbs!t:%ff", Credentials{}, ErrMalformed},
		{"pbs no colon", "PBSAPIToken=a@pbs!t" + uuid, Credentials{}, ErrMalformed},
		{"pbs empty secret", "PBSAPIToken=a@pbs!t:", Credentials{}, ErrMalformed},
		{"pbs empty id", "PBSAPIToken=:" + uuid, Credentials{}, ErrMalformed},
		{"pbs only colon", "PBSAPIToken=:", Credentials{}, ErrMalformed},
		{"pbs scheme only", "PBSAPIToken", Credentials{}, ErrMalformed},
		{"pbs scheme and sep only", "PBSAPIToken=", Credentials{}, ErrMalformed},
		{"pbs two spaces", "PBSAPIToken  a@pbs!t:s", Credentials{}, ErrMalformed},
		// Token-id grammar is the caller's job (impl.ValidateTokenID rejects this id).
		{"pbs space and equals", "PBSAPIToken =a@pbs!t:s", Credentials{FormPBS, "=a@pbs!t", "s"}, nil},
		{"pbs space inside secret", "PBSAPIToken=a@pbs!t:s s", Credentials{}, ErrMalformed},
		{"pbs tab separator", "PBSAPIToken\ta@pbs!t:s", Credentials{}, ErrUnknownScheme},
		{"pbs control byte", "PBSAPIToken=a@pbs!t:s\x00", Credentials{}, ErrMalformed},
		{"pbs raw non-ASCII", "PBSAPIToken=a@pbs!t:\xc3\xa4", Credentials{}, ErrMalformed},

		// PVE.
		{"pve", "PVEAPIToken=root@pam!t1=" + uuid, Credentials{FormPVE, "root@pam!t1", uuid}, nil},
		{"pve space", "PVEAPIToken root@pam!t1=" + uuid, Credentials{FormPVE, "root@pam!t1", uuid}, nil},
		{"pve splits on last '='", "PVEAPIToken=a@pve!t=x=" + uuid, Credentials{FormPVE, "a@pve!t=x", uuid}, nil},
		{"pve ':' stays in secret", "PVEAPIToken=a@pve!t=x:y", Credentials{FormPVE, "a@pve!t", "x:y"}, nil},
		{"pve decodes whole value", "PVEAPIToken=a%40pve!t=s%2Fx", Credentials{FormPVE, "a@pve!t", "s/x"}, nil},
		{"pve encoded '=' splits", "PVEAPIToken=a@pve!t=x%3Dy", Credentials{FormPVE, "a@pve!t=x", "y"}, nil},
		{"pve invalid escape kept", "PVEAPIToken=a@pve!t=x%zz%4", Credentials{FormPVE, "a@pve!t", "x%zz%4"}, nil},
		{"pve no '='", "PVEAPIToken=a@pve!t:" + uuid, Credentials{}, ErrMalformed},
		{"pve empty secret", "PVEAPIToken=a@pve!t=", Credentials{}, ErrMalformed},
		{"pve empty id", "PVEAPIToken==" + uuid, Credentials{}, ErrMalformed},
		{"pve scheme only", "PVEAPIToken", Credentials{}, ErrMalformed},
		{"pve semicolon", "PVEAPIToken=a@pve!t=s;x", Credentials{}, ErrMalformed},
		{"pve secret over limit", "PVEAPIToken=a@pve!t=" + long + "b", Credentials{}, ErrMalformed},
		{"pve secret at limit", "PVEAPIToken=a@pve!t=" + long, Credentials{FormPVE, "a@pve!t", long}, nil},

		// Scheme and whole-header checks.
		{"empty", "", Credentials{}, ErrMissing},
		{"leading space", " PBSAPIToken=a@pbs!t:s", Credentials{}, ErrMalformed},
		{"trailing space", "PBSAPIToken=a@pbs!t:s ", Credentials{}, ErrMalformed},
		{"trailing newline", "PVEAPIToken=a@pve!t=s\n", Credentials{}, ErrMalformed},
		{"whitespace only", "   ", Credentials{}, ErrMalformed},
		{"lowercase scheme", "pbsapitoken=a@pbs!t:s", Credentials{}, ErrUnknownScheme},
		{"mixed-case scheme", "PbsApiToken=a@pbs!t:s", Credentials{}, ErrUnknownScheme},
		{"longer scheme", "PBSAPITokenX=a@pbs!t:s", Credentials{}, ErrUnknownScheme},
		{"bearer", "Bearer " + uuid, Credentials{}, ErrUnknownScheme},
		{"basic", "Basic cm9vdDpzZWNyZXQ=", Credentials{}, ErrUnknownScheme},
		{"ticket cookie", "PBSAuthCookie=PBS:root@pam:1234::sig", Credentials{}, ErrUnknownScheme},
		{"header too long", "PBSAPIToken=a@pbs!t:" + strings.Repeat("s", MaxHeaderLen), Credentials{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.header)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse() error = %v, want %v", err, tt.wantErr)
				}
				if got != (Credentials{}) {
					t.Errorf("Parse() = %#v on error, want zero", got)
				}
				checkNoLeak(t, tt.header, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse() = %+v / TokenID %q, want TokenID %q (secret match %v)",
					got, got.TokenID, tt.want.TokenID, got.Secret == tt.want.Secret)
			}
		})
	}
}

func TestErrorsWrapOneSentinel(t *testing.T) {
	sentinels := []error{ErrMissing, ErrMalformed, ErrUnknownScheme}
	for _, h := range []string{"", "x", "PBSAPIToken=a:", "PVEAPIToken=a", "PBSAPIToken=a:%"} {
		_, err := Parse(h)
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Parse(%q) error %v wraps %d sentinels, want 1", h, err, n)
		}
	}
}

func TestAccepted(t *testing.T) {
	pbsOnly := Accepted{FormPBS}
	if _, err := pbsOnly.Parse("PBSAPIToken=a@pbs!t:s"); err != nil {
		t.Errorf("PBS-only: PBS header refused: %v", err)
	}
	for _, h := range []string{"PVEAPIToken=a@pve!t=s", "PDMAPIToken=a@pdm!t:s"} {
		if _, err := pbsOnly.Parse(h); !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("PBS-only: Parse(%q) error = %v, want ErrUnknownScheme", h, err)
		}
	}
	for _, f := range []Form{FormPBS, FormPDM, FormPVE} {
		if !(Accepted{}).Allows(f) || !Accepted(nil).Allows(f) {
			t.Errorf("default Accepted does not allow %s", f)
		}
	}
	if (Accepted{}).Allows("Bearer") {
		t.Error("default Accepted allows an unknown form")
	}
}

func TestCredentialsRedacted(t *testing.T) {
	const secret = "s3cr3t-VALUE-" + uuid
	c := Credentials{Form: FormPBS, TokenID: "root@pam!t1", Secret: secret}
	type wrapper struct {
		C   Credentials
		P   *Credentials
		Any any
	}
	w := wrapper{c, &c, c}
	outs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10v", "%-10s"} {
		outs[verb+" value"] = fmt.Sprintf(verb, c)
		outs[verb+" pointer"] = fmt.Sprintf(verb, &c)
		outs[verb+" nested"] = fmt.Sprintf(verb, w)
		outs[verb+" slice"] = fmt.Sprintf(verb, []Credentials{c})
	}
	outs["String"] = c.String()
	outs["GoString"] = c.GoString()
	outs["Sprint"] = fmt.Sprint(c, &c)
	outs["Errorf"] = fmt.Errorf("auth failed for %v", c).Error()
	j, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	outs["json"] = string(j)
	for name, out := range outs {
		if strings.Contains(out, secret) || strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, "root@pam!t1") && !strings.Contains(out, fmt.Sprintf("%x", "root@pam!t1")) {
			t.Errorf("%s lost the token id: %s", name, out)
		}
	}
	if got, want := c.String(), "PBSAPIToken=root@pam!t1:<redacted>"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Credentials{Form: FormPVE, TokenID: "a@pve!t", Secret: "x"}).String(), "PVEAPIToken=a@pve!t=<redacted>"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%#v", Credentials{}); !strings.Contains(got, `Secret:""`) {
		t.Errorf("%%#v of zero Credentials = %s, want empty Secret shown", got)
	}
}

// checkNoLeak fails if msg contains the secret part of header or the whole header.
func checkNoLeak(t testing.TB, header, msg string) {
	t.Helper()
	if s := leaked(header, msg); s != "" {
		t.Fatalf("error message %q contains input fragment %q", msg, s)
	}
}

// leaked returns the fragment of header (secret or whole) that msg contains.
func leaked(header, msg string) string {
	for _, s := range []string{header, secretOf(header)} {
		// Short candidates can coincide with the fixed wording of a message.
		if len(s) >= 8 && strings.Contains(msg, s) && !strings.Contains(vocabulary, s) {
			return s
		}
	}
	return ""
}

// TestLeakCheck makes sure the leak check used by the table test and the
// fuzz target would notice a leak.
func TestLeakCheck(t *testing.T) {
	for _, h := range []string{"PBSAPIToken=a@pbs!t:" + uuid, "PVEAPIToken=a@pve!t=x=" + uuid, "Bearer " + uuid} {
		if leaked(h, "authheader: bad secret "+uuid) == "" {
			t.Errorf("leak of the secret of %q not detected", h)
		}
	}
	if s := leaked("PBSAPIToken=a@pbs!t:"+uuid, "authheader: malformed credentials: PBSAPIToken: empty secret"); s != "" {
		t.Errorf("false leak %q", s)
	}
}

// secretOf guesses the secret part of a header the way a server would.
func secretOf(h string) string {
	if i := strings.LastIndexByte(h, '='); strings.HasPrefix(h, string(FormPVE)) && i >= 0 {
		return h[i+1:]
	}
	if _, s, ok := strings.Cut(h, ":"); ok {
		return s
	}
	if i := strings.IndexAny(h, "= "); i >= 0 {
		return h[i+1:]
	}
	return h
}

// vocabulary is the fixed text error messages are built from.
var vocabulary = func() string {
	var b strings.Builder
	for _, h := range []string{
		"", "x", " x", "PBSAPIToken", "PDMAPIToken", "PVEAPIToken",
		strings.Repeat("x", MaxHeaderLen+1),
		"PBSAPIToken=a", "PBSAPIToken=:s", "PBSAPIToken=a:", "PBSAPIToken=a:%", "PBSAPIToken=a: b",
		"PBSAPIToken=a:" + strings.Repeat("x", MaxSecretLen+1),
		"PVEAPIToken=a", "PVEAPIToken==s", "PVEAPIToken=a=", "PVEAPIToken=a=;",
		"PVEAPIToken=a=" + strings.Repeat("x", MaxSecretLen+1),
	} {
		for _, a := range []Accepted{nil, {FormPDM}} {
			if _, err := a.Parse(h); err != nil {
				b.WriteString(err.Error() + "\n")
			}
		}
	}
	return b.String()
}()

func FuzzParse(f *testing.F) {
	for _, h := range []string{
		"PBSAPIToken=root@pam!t1:" + uuid,
		"PBSAPIToken root@pam!t1:" + uuid,
		"PDMAPIToken=admin@pdm!ci:" + uuid,
		"PVEAPIToken=root@pam!t1=" + uuid,
		"PVEAPIToken root@pam!t1=" + uuid,
		"PBSAPIToken=a@pbs!t:x:y:z",
		"PBSAPIToken=a@pbs!t:s%3Ae%2fc%25",
		"PBSAPIToken=a@pbs!t:ab%zz",
		"PBSAPIToken=a@pbs!t:%ff",
		"PVEAPIToken=a@pve!t=x=y",
		"PVEAPIToken=a%40pve!t=x%3Dy%zz",
		"PVEAPIToken=a@pve!t=s;x",
		"PBSAPIToken=:",
		"PVEAPIToken==",
		"PBSAPIToken",
		"pbsapitoken=a@pbs!t:s",
		" PBSAPIToken=a@pbs!t:s ",
		"Bearer " + uuid,
		"",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, err := Parse(h)
		if err != nil {
			checkNoLeak(t, h, err.Error())
			if c != (Credentials{}) {
				t.Fatalf("non-zero Credentials with error %v", err)
			}
			return
		}
		if c.TokenID == "" || c.Secret == "" {
			t.Fatalf("success with empty part: TokenID %q, secret empty %v", c.TokenID, c.Secret == "")
		}
		if !(Accepted{}).Allows(c.Form) {
			t.Fatalf("unknown form %q", c.Form)
		}
		if len(h) > MaxHeaderLen || len(c.Secret) > MaxSecretLen {
			t.Fatalf("limits not enforced: header %d, secret %d bytes", len(h), len(c.Secret))
		}
		if got, other := shownForms(t, c), shownForms(t, withSecret(c, "x")); got != other {
			t.Fatalf("formatting depends on the secret:\n%s\nvs, with another secret,\n%s", got, other)
		}
	})
}

// shownForms renders c every way a log line or result file might: the
// fmt verbs and JSON.
func shownForms(t *testing.T, c Credentials) string {
	t.Helper()
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("marshal credentials: %v", err)
	}
	return fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|", c, c, c, c, c, c) + string(j)
}

func withSecret(c Credentials, s string) Credentials {
	c.Secret = s
	return c
}

// TestRedactionOracle pins the fuzz target's leak oracle: redacted output
// must not change with the secret, which also holds when the secret is a
// substring of the quoted token id (the seed in testdata/fuzz), and a
// formatter that printed the secret would be caught.
func TestRedactionOracle(t *testing.T) {
	tests := []struct {
		name   string
		header string
	}{
		{"secret inside quoted token id", `PBSAPIToken 0000000:0000000"`},
		{"secret equals token id", "PBSAPIToken=abcdefgh:abcdefgh"},
		{"secret is the redaction marker", "PBSAPIToken=a@pbs!t:" + redacted},
		{"plain", "PBSAPIToken=a@pbs!t:" + uuid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.header)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.header, err)
			}
			if got, other := shownForms(t, c), shownForms(t, withSecret(c, "x")); got != other {
				t.Errorf("output depends on the secret:\n%s\n%s", got, other)
			}
		})
	}
	// The oracle notices a leak: plain struct formatting shows the field.
	type unredacted Credentials
	c := unredacted{Form: FormPBS, TokenID: "a@pbs!t", Secret: uuid}
	d := c
	d.Secret = "x"
	if fmt.Sprintf("%+v", c) == fmt.Sprintf("%+v", d) {
		t.Error("oracle would miss a formatter that prints the secret")
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, header string }{
		{string(FormPBS), "PBSAPIToken=root@pam!bench:" + uuid},
		{string(FormPDM), "PDMAPIToken=root@pam!bench:" + uuid},
		{string(FormPVE), "PVEAPIToken=root@pam!bench=" + uuid},
		{string(FormPBS) + "-percent", "PBSAPIToken=root@pam!bench:" + strings.ReplaceAll(uuid, "-", "%2D")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bc.header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
