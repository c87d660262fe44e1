package impl

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzValidateTokenID: the validator never panics, every error wraps
// ErrBadTokenID without echoing the id, and an accepted id is safe to put
// into an Authorization header and a log line (no ':' , whitespace or
// control characters, valid UTF-8) and has exactly the user@realm!name
// shape with three non-empty parts.
func FuzzValidateTokenID(f *testing.F) {
	for _, s := range []string{
		"alice@pbs!ci", "bob@pam!monitor", "root@pam!t1", "bench@pbs!t1",
		"", "@", "!", "@!", "a@!b", "a@b!", "@b!c", "a!b@c", "a@b", "a@b!c!d", "a@b@c!d", "a@b!c@d",
		"alice@pbs!c:i", "alice@pbs!c i", "alice@pbs!c\ti", "alice@pbs!c\x00i", "alice@pbs!c\x7fi",
		"alice@pbs!c\u0085i", "alice@pbs!c\u00a0i", "alice@pbs!c\u2028i", "alice@pbs!\xff", "alice@pbs!\xef\xbf\xbd",
		"\ufeffalice@pbs!ci", "älice@pbs!çi", "a@b!" + strings.Repeat("x", 252), "a@b!" + strings.Repeat("x", 253),
		"alice@pbs!ci:5f3c1e2a-0b1d-4c3e-8f00-0123456789ab",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateTokenID(id)
		if err != nil {
			if !errors.Is(err, ErrBadTokenID) {
				t.Fatalf("error does not wrap ErrBadTokenID: %v", err)
			}
			// Every static message has a space in each 32-byte window, and
			// an id with a space is refused as such: a long id showing up
			// in the message can only be an echo.
			if len(id) >= 32 && strings.Contains(err.Error(), id) {
				t.Fatalf("error echoes the id: %q", err)
			}
			return
		}
		if !utf8.ValidString(id) {
			t.Fatalf("accepted invalid UTF-8 %q", id)
		}
		if len(id) > maxTokenIDLen {
			t.Fatalf("accepted a %d-byte id", len(id))
		}
		for _, r := range id {
			if r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
				t.Fatalf("accepted %q containing %U", id, r)
			}
		}
		user, rest, ok := strings.Cut(id, "@")
		if !ok || user == "" || strings.Contains(user, "!") {
			t.Fatalf("accepted %q: user part %q", id, user)
		}
		realm, name, ok := strings.Cut(rest, "!")
		if !ok || realm == "" || name == "" || strings.ContainsAny(realm+name, "@!") {
			t.Fatalf("accepted %q: realm %q name %q", id, realm, name)
		}
	})
}

// FuzzParseShadow: the parser never panics, a refused file's error (and
// everything it wraps) never repeats hash-like content from the file, and
// a successful parse survives EncodeShadow -> ParseShadow unchanged.
func FuzzParseShadow(f *testing.F) {
	const h1 = "$5$rounds=1000$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"
	const h2 = "$6$saltsalt$QWERTYUIOPASDFGHJKLZXCVBNMqwertyuiopasdfghjklzxcvbnm0123456789./abcdefghijklmnopqrstuv"
	for _, s := range []string{
		``, `null`, " null\n", `{}`, `{"alice@pbs!ci":"` + h1 + `"}`,
		`{"alice@pbs!ci":"` + h1 + `","bob@pam!monitor":"` + h2 + `"}`,
		`{"alice@pbs!ci":"` + h1 + `","alice@pbs!ci":"` + h2 + `"}`, // duplicate key: last wins
		`{"alice@pbs!ci":"` + h1[:20],                               // truncated
		`{"alice@pbs!ci":"` + h1 + `"`,
		`{"alice@pbs!ci":`,
		`{"alice@pbs!ci":"` + h1 + `",}`,
		`{"alice@pbs!ci":12345678901234567890123456789}`, // huge number
		`{"alice@pbs!ci":1e999}`,
		`{"alice@pbs!ci":true}`,
		`{"alice@pbs!ci":null}`,
		`{"alice@pbs!ci":["` + h1 + `"]}`,
		`{"alice@pbs!ci":{"nested":"` + h1 + `"}}`, // nested object
		`{"` + h1 + `":"` + h2 + `"}`,              // hash as key: bad id
		`["` + h1 + `"]`, `"` + h1 + `"`, `12`, `true`,
		"\xef\xbb\xbf{\"alice@pbs!ci\":\"" + h1 + "\"}", // BOM
		"{\"alice@pbs!ci\":\"\xff\xfe" + h1 + "\"}",     // invalid UTF-8 in a hash
		`{"alice@pbs!ci":""}`,
		`{"alice@pbs!c:i":"` + h1 + `"}`,
		`{"alice@pbs!ci":"` + h1 + `\u0000"}`,
		"{\n  \"alice@pbs!ci\": \"" + h1 + "\",\n  \"x\": 1\n}",
		`{"alice@pbs!ci":"` + h1 + `"} trailing`,
		`{"alice@pbs!ci":"` + h1 + `"}{}`,
		`{"alice@pbs!ci":"\q` + h1 + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseShadow("S", data)
		if err != nil {
			for e := err; e != nil; e = errors.Unwrap(e) {
				if leak := echoedHashLike(data, e.Error()); leak != "" {
					t.Fatalf("error %T echoes file content %q: %q", e, leak, e.Error())
				}
			}
			return
		}
		if m == nil {
			t.Fatal("nil map without error")
		}
		enc, err := EncodeShadow(m)
		if err != nil {
			t.Fatalf("encode a parsed map: %v", err)
		}
		back, err := ParseShadow("S", enc)
		if err != nil {
			t.Fatalf("re-parse of encoded map failed: %v", err)
		}
		if !maps.Equal(m, back) {
			t.Fatalf("round trip changed the map: %d entries -> %d", len(m), len(back))
		}
	})
}

// echoedHashLike returns the first 9-byte window of data that looks like
// hash material (only crypt-alphabet bytes, with a digit and a letter, or a
// '$') and occurs in msg, or "" if there is none.
func echoedHashLike(data []byte, msg string) string {
	const w = 9
	for i := 0; i+w <= len(data); i++ {
		win := data[i : i+w]
		var letter, digit, dollar, ok = false, false, false, true
		for _, c := range win {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
				letter = true
			case c >= '0' && c <= '9':
				digit = true
			case c == '$':
				dollar = true
			case c == '.', c == '/', c == '=', c == '_', c == '-', c == '+':
			default:
				ok = false
			}
		}
		if ok && (dollar || (letter && digit)) && strings.Contains(msg, string(win)) {
			return string(win)
		}
	}
	return ""
}

// TestEchoedHashLike keeps the fuzz oracle honest: it must flag a real
// echo and ignore the fixed words of the messages.
func TestEchoedHashLike(t *testing.T) {
	cases := []struct {
		data, msg string
		want      bool
	}{
		{`{"a":"$5$abc$def0123"}`, "S: bad $5$abc$def0123", true},
		{`{"a":"abcdefgh12345"}`, "S: fgh12345x", false},
		{`{"a":"abcdefgh12345"}`, "S: efgh12345", true},
		{`{"character":1}`, "S: contains a control character", false},
		{`{"a":123456789012}`, "S:1:6: invalid JSON (byte offset 123456789012)", false},
	}
	for _, c := range cases {
		if got := echoedHashLike([]byte(c.data), c.msg) != ""; got != c.want {
			t.Errorf("echoedHashLike(%q, %q) = %v, want %v", c.data, c.msg, got, c.want)
		}
	}
}
