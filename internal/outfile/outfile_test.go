package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		path    string
		write   func(io.Writer) error
		want    string // file content; "" with wantErr: no file left
		wantErr bool
	}{
		{"creates parents", filepath.Join(dir, "a", "b", "x.txt"), func(w io.Writer) error { _, err := io.WriteString(w, "hi"); return err }, "hi", false},
		{"failed write leaves nothing", filepath.Join(dir, "bad.txt"), func(w io.Writer) error { io.WriteString(w, "part"); return errors.New("boom") }, "", true},
		{"parent is a file", filepath.Join(dir, "a", "b", "x.txt", "y"), func(io.Writer) error { return nil }, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(tc.path, tc.write)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			data, rerr := os.ReadFile(tc.path)
			if tc.wantErr {
				if rerr == nil {
					t.Errorf("partial file left: %q", data)
				}
				return
			}
			if string(data) != tc.want {
				t.Errorf("content %q, want %q", data, tc.want)
			}
		})
	}
}
