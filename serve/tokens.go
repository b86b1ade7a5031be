package serve

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/consensus-ledger/consensus/domain"
)

// Role is what a token allows.
type Role int

// The roles of a token file. A writer may also read.
const (
	RoleRead Role = iota + 1
	RoleWrite
)

func (r Role) String() string {
	switch r {
	case RoleRead:
		return "read"
	case RoleWrite:
		return "write"
	}
	return "none"
}

// Principal is who made a request: the name a token file gives, kept as
// recorded_by on everything it writes.
type Principal struct {
	Name string
	Role Role
}

// MinTokenLength is the shortest token a token file may hold: a token is a
// password that scripts keep, so it should be long and random (for example
// `openssl rand -hex 24`).
const MinTokenLength = 16

// MaxNameLength bounds a writer's name, which every event it writes keeps.
const MaxNameLength = 100

// Tokens is the access list of a server, read from a token file.
type Tokens struct {
	entries []tokenEntry
}

// tokenEntry keeps a token's SHA-256 digest rather than the token: digests
// all have one length, so comparing them in constant time reveals nothing,
// not even a token's length.
type tokenEntry struct {
	digest    [32]byte
	principal Principal
}

// TokenFileError says which line of a token file is wrong and why. It never
// quotes the token itself, which is a secret.
type TokenFileError struct {
	Line   int
	Reason string
}

func (e *TokenFileError) Error() string {
	return fmt.Sprintf("token file line %d: %s", e.Line, e.Reason)
}

// ReadTokenFile reads the token file at path (see ParseTokens), refusing
// one that others than its owner may write (see checkTokenFileMode).
func ReadTokenFile(path string) (*Tokens, error) {
	t, _, err := readTokenFile(path)
	return t, err
}

// ParseTokens reads a token file: one `TOKEN ROLE NAME` line per client,
// where ROLE is read or write and NAME, the rest of the line, is who the
// client is (kept as recorded_by on every event it writes). Blank lines and
// lines starting with # are ignored. A file granting nobody anything is an
// error, as it would lock everyone out.
func ParseTokens(r io.Reader) (*Tokens, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	t := &Tokens{}
	seen := map[[32]byte]int{}
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			// Editors on Windows may start the file with a byte order mark;
			// anywhere else it is part of the line and refused with it.
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		entry, err := parseTokenLine(text)
		if err != nil {
			return nil, &TokenFileError{Line: line, Reason: err.Error()}
		}
		if first, dup := seen[entry.digest]; dup {
			return nil, &TokenFileError{Line: line, Reason: fmt.Sprintf("repeats the token of line %d; each client needs its own", first)}
		}
		seen[entry.digest] = line
		t.entries = append(t.entries, entry)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &TokenFileError{Line: line + 1, Reason: "is longer than 64 KiB"}
		}
		return nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	if len(t.entries) == 0 {
		return nil, &TokenFileError{Line: line, Reason: "the file grants no token; write one `TOKEN ROLE NAME` line per client"}
	}
	return t, nil
}

func parseTokenLine(text string) (tokenEntry, error) {
	fields := strings.Fields(text)
	if len(fields) < 3 {
		return tokenEntry{}, errors.New("must read `TOKEN ROLE NAME` (role read or write)")
	}
	token, roleText := fields[0], fields[1]
	// The name is the rest of the line after the role, so it may hold spaces.
	rest := text[len(token):]
	name := strings.TrimSpace(rest[strings.Index(rest, roleText)+len(roleText):])
	if len(token) < MinTokenLength {
		return tokenEntry{}, fmt.Errorf("the token is shorter than %d characters", MinTokenLength)
	}
	if !isVisibleASCII(token) {
		return tokenEntry{}, errors.New("the token must be printable ASCII without spaces")
	}
	var role Role
	switch roleText {
	case "read":
		role = RoleRead
	case "write":
		role = RoleWrite
	default:
		return tokenEntry{}, fmt.Errorf("role %s is not read or write", domain.Quote(roleText))
	}
	if utf8.RuneCountInString(name) > MaxNameLength || !isPrintable(name) {
		return tokenEntry{}, fmt.Errorf("the name must be 1 to %d printable characters", MaxNameLength)
	}
	return tokenEntry{digest: sha256.Sum256([]byte(token)), principal: Principal{Name: name, Role: role}}, nil
}

// Lookup returns the principal a presented token belongs to. It compares
// the token's digest with every entry's, in constant time and without
// stopping at a match, so the time taken says nothing about the tokens.
func (t *Tokens) Lookup(token string) (Principal, bool) {
	digest := sha256.Sum256([]byte(token))
	var found Principal
	match := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(digest[:], e.digest[:]) == 1 {
			found, match = e.principal, 1
		}
	}
	return found, match == 1
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.entries) }

func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
