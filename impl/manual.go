package impl

import (
	"fmt"
	"os"
	"time"
)

// The helpers below change token.shadow the way an administrator would:
// without the lock and without bumping the generation. Scenarios and tests
// use them to measure what each verifier notices.

// Snapshot is a copy of the file as `cp -p` would keep it.
type Snapshot struct {
	Data  []byte
	Mtime time.Time
	Mode  os.FileMode
}

// TakeSnapshot copies the current file content and timestamps.
func TakeSnapshot(path string) (Snapshot, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return Snapshot{Data: data, Mtime: st.ModTime(), Mode: st.Mode().Perm()}, nil
}

// ManualRewrite rewrites path in place (truncate + write, as an editor that
// saves in place does) with entries, bypassing lock and generation.
func ManualRewrite(path string, entries map[string]string) error {
	data, err := EncodeShadow(entries)
	if err != nil {
		return err
	}
	return writeInPlace(path, data)
}

// ManualEdit applies change to the parsed file and rewrites it in place.
func ManualEdit(path string, change func(entries map[string]string) error) error {
	m, err := ReadShadow(path)
	if err != nil {
		return err
	}
	if err := change(m); err != nil {
		return fmt.Errorf("manual edit of %s: %w", path, err)
	}
	return ManualRewrite(path, m)
}

// ManualRevoke removes id by hand.
func ManualRevoke(path, id string) error {
	return ManualEdit(path, func(m map[string]string) error {
		if _, ok := m[id]; !ok {
			return fmt.Errorf("%s: %w", id, ErrNoToken)
		}
		delete(m, id)
		return nil
	})
}

// RestoreSnapshot writes snap back in place and restores its mtime, as
// `cp -p backup token.shadow` does. If the content has the same length as
// the current file, (mtime, len) end up exactly as they were when the
// snapshot was taken: the blind spot of metadata-based change detection.
func RestoreSnapshot(path string, snap Snapshot) error {
	if err := writeInPlace(path, snap.Data); err != nil {
		return err
	}
	if err := os.Chtimes(path, snap.Mtime, snap.Mtime); err != nil {
		return fmt.Errorf("restore mtime of %s: %w", path, err)
	}
	return nil
}

func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("manual write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("manual write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("manual write %s: %w", path, err)
	}
	return nil
}

// ManualRewriteKeepMtime applies change by hand and then sets the mtime back
// to what it was before, refusing if the length changed: the rewrite that
// metadata-based detection cannot see (for example a backup restored with
// `cp -p`, or an edit followed by `touch -r`).
func ManualRewriteKeepMtime(path string, change func(entries map[string]string) error) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("manual restore %s: %w", path, err)
	}
	m, err := ReadShadow(path)
	if err != nil {
		return err
	}
	if err := change(m); err != nil {
		return fmt.Errorf("manual restore of %s: %w", path, err)
	}
	data, err := EncodeShadow(m)
	if err != nil {
		return err
	}
	if int64(len(data)) != st.Size() {
		return fmt.Errorf("manual restore of %s: new content is %d bytes, file is %d: not a same-length rewrite", path, len(data), st.Size())
	}
	if err := writeInPlace(path, data); err != nil {
		return err
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		return fmt.Errorf("restore mtime of %s: %w", path, err)
	}
	return nil
}
