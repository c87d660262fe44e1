package scenarios

import (
	"sort"
	"strconv"
	"strings"
)

// maxErrors bounds how many problems one file reports; after that the
// rest are likely consequences of the first ones.
const maxErrors = 20

// Error is one problem in a scenario file.
type Error struct {
	File  string // path as given to Parse
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path such as "load.rate" or "events[2].at"; may be empty
	Msg   string
}

// Error formats as "file:line: field: msg", leaving out the parts that are
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, ordered by line. Parse
// returns it (as error) when anything is wrong.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// collector accumulates errors for one file.
type collector struct {
	file string
	errs Errors
}

func (c *collector) add(line int, field, msg string) {
	if len(c.errs) >= maxErrors {
		return
	}
	// One error, one line: messages can carry text from the file.
	msg = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
	field = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(field)
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Field: field, Msg: msg})
}

// err returns the collected errors sorted by line, or nil.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
	return c.errs
}

// quote shows a user-supplied value in a message, shortened so a hostile
// file cannot make errors arbitrarily long.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
