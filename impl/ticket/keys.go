package ticket

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// KeyKind names one of the three key files.
type KeyKind int

const (
	// Current is authkey.pub.
	Current KeyKind = iota
	// Old is authkey.pub.old, the previous public key.
	Old
	// Private is priv/authkey.key.
	Private
)

func (k KeyKind) String() string {
	switch k {
	case Current:
		return "pub"
	case Old:
		return "pubold"
	case Private:
		return "priv"
	}
	return fmt.Sprintf("KeyKind(%d)", int(k))
}

// MaxKeyFile bounds a key file read: a 16384-bit private key PEM is about
// 12 KiB; anything much larger is not a key.
const MaxKeyFile = 64 << 10

// Files is the key layout under one directory, PVE's /etc/pve.
type Files struct{ Dir string }

// Path returns the file of kind.
func (f Files) Path(k KeyKind) string {
	switch k {
	case Old:
		return filepath.Join(f.Dir, "authkey.pub.old")
	case Private:
		return filepath.Join(f.Dir, "priv", "authkey.key")
	}
	return filepath.Join(f.Dir, "authkey.pub")
}

// Key is a parsed key file with the mtime PVE caches next to it.
type Key struct {
	Pub  *rsa.PublicKey
	Priv *rsa.PrivateKey
	// Mtime is whole seconds, as File::stat's mtime.
	Mtime int64
	// Sum is SHA-256 of the file's bytes: a fingerprint of public keys for
	// reports; for the private key it is only compared, never printed.
	Sum [32]byte
}

// Fingerprint is the first 8 bytes of Sum in hex (public keys only).
func (k *Key) Fingerprint() string {
	if k == nil {
		return ""
	}
	return fmt.Sprintf("%x", k.Sum[:8])
}

// ParseKey parses PEM as kind: PKIX "PUBLIC KEY" (get_public_key_x509_string)
// for public keys, PKCS#1 "RSA PRIVATE KEY" (get_private_key_string) or
// PKCS#8 for the private one.
func ParseKey(kind KeyKind, data []byte) (*Key, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", kind)
	}
	k := &Key{Sum: sha256.Sum256(data)}
	if kind == Private {
		priv, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			p8, err8 := x509.ParsePKCS8PrivateKey(blk.Bytes)
			rk, ok := p8.(*rsa.PrivateKey)
			if err8 != nil || !ok {
				return nil, fmt.Errorf("%s: %w", kind, err)
			}
			priv = rk
		}
		k.Priv, k.Pub = priv, &priv.PublicKey
		return k, nil
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key (%T)", kind, pub)
	}
	k.Pub = rk
	return k, nil
}

// readOpen is $read_key_and_mtime: open, stat the handle, read, close. On
// FUSE the fstat before the read may be answered from the attribute cache;
// statAfterRead moves it after the read, which (observed on Linux 6.x with
// go-fuse) revalidates the attributes.
func readOpen(path string, statAfterRead bool) (data []byte, mtime int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var st syscall.Stat_t
	if !statAfterRead {
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			return nil, 0, fmt.Errorf("fstat %s: %w", path, err)
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return nil, 0, fmt.Errorf("%s: not a regular file", path)
		}
	}
	data, err = io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return nil, 0, err // a *PathError, names the file
	}
	if len(data) > MaxKeyFile {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", path, MaxKeyFile)
	}
	if statAfterRead {
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			return nil, 0, fmt.Errorf("fstat %s: %w", path, err)
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return nil, 0, fmt.Errorf("%s: not a regular file", path)
		}
	}
	return data, st.Mtim.Sec, nil
}

// GenerateKey makes a new RSA key of bits (PVE: 2048).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits < 1024 {
		// Go refuses smaller keys unless GODEBUG=rsa1024min=0; 1024 keeps
		// tests fast.
		bits = 1024
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate %d-bit key: %w", bits, err)
	}
	return k, nil
}

// PublicPEM is get_public_key_x509_string.
func PublicPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PrivatePEM is get_private_key_string.
func PrivatePEM(priv *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
}

// setContents is PVE::Tools::file_set_contents: write a temp file next to
// path, fsync, rename over path. The private key is written 0600.
func setContents(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("mkdir for %s: %w", path, err)
	}
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// Lock is the stand-in for cfs_lock_authkey: an exclusive flock on a lock
// file in the shared directory. It blocks; release with the returned func.
func Lock(lockPath string) (unlock func(), err error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", lockPath, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", lockPath, err)
	}
	return func() { f.Close() }, nil // close releases the flock
}
