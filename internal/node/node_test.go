package node

import (
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
)

func TestStatFilterFor(t *testing.T) {
	if f, err := StatFilterFor("", ""); err != nil || f != nil {
		t.Fatalf("no emulation: %v %v", f, err)
	}
	for _, bad := range [][2]string{{"-1s", ""}, {"", "0s"}, {"soon", ""}} {
		if _, err := StatFilterFor(bad[0], bad[1]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	coarse, _ := StatFilterFor("2s", "")
	m, _ := coarse(impl.FileMeta{Exists: true, MtimeNS: int64(5*time.Second + 300*time.Millisecond), Size: 9}, nil)
	if m.MtimeNS != int64(4*time.Second) || m.Size != 9 {
		t.Errorf("coarse 2s: %+v", m)
	}
	stale, _ := StatFilterFor("", "1h")
	first, _ := stale(impl.FileMeta{Exists: true, MtimeNS: 1, Size: 1}, nil)
	second, _ := stale(impl.FileMeta{Exists: true, MtimeNS: 2, Size: 2}, nil)
	if second != first {
		t.Errorf("stale stat changed inside its ttl: %+v then %+v", first, second)
	}
}
