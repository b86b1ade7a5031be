package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
)

// GenerateKey makes an Ed25519 key pair and returns the private key as
// PKCS#8 PEM and the public key as SubjectPublicKeyInfo PEM, the forms
// openssl reads (openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin).
func GenerateKey() (private, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), nil
}

// LoadPrivateKey reads a key written by GenerateKey (consensus keygen). A
// key file that the group or others may read is refused: whoever reads it
// can sign checkpoints of a forged ledger.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by group or others (mode %04o); run chmod 600 %s", path, mode, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return ParsePrivateKey(path, b)
}

// ParsePrivateKey reads a PKCS#8 PEM Ed25519 private key; name is the
// file's name for messages.
func ParsePrivateKey(name string, b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key file %s is not a PEM \"PRIVATE KEY\" written by 'consensus keygen'", name)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key file %s does not hold a PKCS#8 private key: %v", name, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s holds a %T, not an Ed25519 key", name, key)
	}
	return priv, nil
}

// LoadPublicKey reads a public key written by GenerateKey (KEY.pub).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key file %s: %w", path, err)
	}
	return ParsePublicKey(path, b)
}

// ParsePublicKey reads a SubjectPublicKeyInfo PEM Ed25519 public key; name
// is the file's name for messages.
func ParsePublicKey(name string, b []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key file %s is not a PEM \"PUBLIC KEY\" written by 'consensus keygen'", name)
	}
	return parseSPKI(name, block.Bytes)
}

func parseSPKI(name string, der []byte) (ed25519.PublicKey, error) {
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s does not hold a public key: %v", name, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, not an Ed25519 key", name, key)
	}
	return pub, nil
}

// Fingerprint names a public key: "SHA256:" and the hex SHA-256 of its DER
// SubjectPublicKeyInfo, which
// `openssl pkey -pubin -in KEY.pub -outform DER | sha256sum` prints too.
func Fingerprint(pub ed25519.PublicKey) (string, error) {
	_, fp, err := publicKeyID(pub)
	return fp, err
}

func publicKeyID(pub ed25519.PublicKey) (der []byte, fingerprint string, err error) {
	der, err = x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(der)
	return der, "SHA256:" + hex.EncodeToString(sum[:]), nil
}
