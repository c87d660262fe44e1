package impl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// MaxShadowSize bounds how much of token.shadow is read. 10,000 tokens take
// about 1 MB; anything far larger is refused so a runaway or hostile file
// cannot make every request allocate without bound.
const MaxShadowSize = 32 << 20

// ShadowError describes a token.shadow that cannot be used. It names the
// file and, for JSON problems, the position, but never echoes file content:
// the file holds password hashes.
type ShadowError struct {
	Path   string
	Line   int // 1-based; 0 when not about a position
	Column int
	Reason string
	Err    error
}

func (e *ShadowError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}

func (e *ShadowError) Unwrap() error { return e.Err }

// ParseShadow decodes token.shadow content: a JSON object mapping token ids
// to crypt hashes. Like PBS (which deserializes into HashMap<Authid,String>)
// every id is validated; a bad one rejects the whole file. An empty file or
// JSON null is an empty map.
func ParseShadow(path string, data []byte) (map[string]string, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return map[string]string{}, nil
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, shadowJSONError(path, data, err)
	}
	if m == nil { // a bare null inside whitespace variants
		m = map[string]string{}
	}
	for id, hash := range m {
		if err := ValidateTokenID(id); err != nil {
			return nil, &ShadowError{Path: path, Reason: "bad token id in file: " + err.Error(), Err: err}
		}
		if hash == "" {
			return nil, &ShadowError{Path: path, Reason: "empty hash for a token"}
		}
	}
	return m, nil
}

// shadowJSONError turns a json error into a position without quoting the
// offending bytes (json's own messages can include values).
func shadowJSONError(path string, data []byte, err error) error {
	var off int64 = -1
	reason := "invalid JSON"
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
		reason = "expected a JSON object of token id -> hash strings, found " + typ.Value
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
		reason = "truncated JSON"
	}
	if off < 0 {
		return &ShadowError{Path: path, Reason: reason, Err: err}
	}
	line, col := lineCol(data, off)
	return &ShadowError{Path: path, Line: line, Column: col, Reason: reason + " (byte offset " + strconv.FormatInt(off, 10) + ")", Err: err}
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// ReadShadow reads and parses path. A missing file is an empty map, as PBS's
// file_get_json with a Null default treats it.
func ReadShadow(path string) (map[string]string, error) {
	data, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseShadow(path, data)
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Refuse an oversized file before reading any of it, so a runaway file
	// costs each request one fstat, not MaxShadowSize of memory.
	if st, err := f.Stat(); err == nil && st.Size() > MaxShadowSize {
		return nil, &ShadowError{Path: path, Reason: fmt.Sprintf("%d bytes, larger than the %d-byte limit", st.Size(), MaxShadowSize)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxShadowSize+1))
	if err != nil {
		return nil, &ShadowError{Path: path, Reason: "read failed", Err: err}
	}
	if len(data) > MaxShadowSize {
		return nil, &ShadowError{Path: path, Reason: fmt.Sprintf("larger than %d bytes", MaxShadowSize)}
	}
	return data, nil
}

// EncodeShadow is the file content for m: compact JSON with sorted keys, as
// serde_json writes it (modulo key order, which PBS leaves random).
func EncodeShadow(m map[string]string) ([]byte, error) {
	if m == nil {
		m = map[string]string{}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode token.shadow: %w", err)
	}
	return data, nil
}

// replaceFile writes data to path atomically: temp file in the same
// directory, fsync, rename, fsync of the directory. A crash at any point
// leaves either the old or the new file, never a torn one.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp_")
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := tmp.Write(data); err != nil {
		cleanup()
		return fmt.Errorf("replace %s: write: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		cleanup()
		return fmt.Errorf("replace %s: chmod: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		cleanup()
		return fmt.Errorf("replace %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("replace %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("replace %s: rename: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("replace %s: open dir: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("replace %s: fsync dir: %w", path, err)
	}
	return nil
}
