// Command anchorfin-go-checker checks Anchorfin's log with code nobody on
// the project wrote: Go's golang.org/x/mod/sumdb/note (signed notes) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 / RFC 9162 proofs), as Debian
// packages them in golang-golang-x-mod-dev, and, for witness
// cosignatures, a verifier written here from the C2SP tlog-cosignature text
// on Go's standard crypto alone.
//
// Each subcommand exits 0 when what it was given verifies and 1, with the
// reason on standard error, when it does not (2 for a usage error).
//
//	note --vkey VKEY FILE
//	inclusion --leaf HEX --root HEX FILE
//	consistency --old-root HEX --new-root HEX FILE
//	cosignature --vkey VKEY FILE
//	derive-vector
//
// scripts/go-checker.sh builds it (GOPATH mode, against
// /usr/share/gocode, offline).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const usage = `usage:
  anchorfin-go-checker note --vkey VKEY FILE
      FILE is a signed note; VKEY the log's verifier key (type 0x01).
      Prints the note text.
  anchorfin-go-checker inclusion --leaf HEX --root HEX FILE
      FILE is GET /v1/ledger/proofs/inclusion's JSON body; --root the root
      of the tree of its tree_size, --leaf the leaf hash at its index.
  anchorfin-go-checker consistency --old-root HEX --new-root HEX FILE
      FILE is GET /v1/ledger/proofs/consistency's JSON body; the roots those
      of the trees of its first and second sizes.
  anchorfin-go-checker cosignature --vkey VKEY FILE
      FILE is a signed note; VKEY a witness's verifier key (type 0x04).
      Prints the cosignature's timestamp.
  anchorfin-go-checker derive-vector
      Prints the cosignature line of docs/notes/go-interop.md's test vector.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	command, arguments := os.Args[1], os.Args[2:]
	var err error
	switch command {
	case "note":
		err = checkNote(arguments)
	case "inclusion":
		err = checkInclusion(arguments)
	case "consistency":
		err = checkConsistency(arguments)
	case "cosignature":
		err = checkCosignature(arguments)
	case "derive-vector":
		err = deriveVector(arguments)
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n%s", command, usage)
		os.Exit(2)
	}
	var usageError usageError
	if errors.As(err, &usageError) {
		fmt.Fprintf(os.Stderr, "%s: %v\n%s", command, err, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", command, err)
		os.Exit(1)
	}
}

type usageError struct{ reason string }

func (e usageError) Error() string { return e.reason }

// parse reads the flags named in values (each set to its string) and one
// positional argument, a file, whose content it returns.
func parse(command string, arguments []string, values map[string]*string) ([]byte, error) {
	flags := flag.NewFlagSet(command, flag.ContinueOnError)
	flags.SetOutput(new(bytes.Buffer))
	for name, value := range values {
		flags.StringVar(value, name, "", "")
	}
	if err := flags.Parse(arguments); err != nil {
		return nil, usageError{err.Error()}
	}
	for name, value := range values {
		if *value == "" {
			return nil, usageError{"--" + name + " is required"}
		}
	}
	if flags.NArg() != 1 {
		return nil, usageError{"expected exactly one FILE"}
	}
	return os.ReadFile(flags.Arg(0))
}

// checkNote opens a signed note with sumdb/note: at least one signature by
// the given key, and any signature line under that key's name and id that
// does not verify fails it. Other signers' lines (witnesses) are ignored.
func checkNote(arguments []string) error {
	var vkey string
	message, err := parse("note", arguments, map[string]*string{"vkey": &vkey})
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key %q: %w", vkey, err)
	}
	opened, err := note.Open(message, note.VerifierList(verifier))
	if err != nil {
		return fmt.Errorf("sumdb/note refuses the note: %w", err)
	}
	fmt.Print(opened.Text)
	return nil
}

// proof is a proof as the server serves it: hex hashes.
type proof struct {
	Index    *int64   `json:"index"`
	TreeSize *int64   `json:"tree_size"`
	First    *int64   `json:"first"`
	Second   *int64   `json:"second"`
	Hashes   []string `json:"hashes"`
}

func readProof(content []byte) (proof, []tlog.Hash, error) {
	var body proof
	if err := json.Unmarshal(content, &body); err != nil {
		return body, nil, fmt.Errorf("the proof is not JSON: %w", err)
	}
	hashes := make([]tlog.Hash, 0, len(body.Hashes))
	for position, text := range body.Hashes {
		hash, err := parseHash(text)
		if err != nil {
			return body, nil, fmt.Errorf("hashes[%d]: %w", position, err)
		}
		hashes = append(hashes, hash)
	}
	return body, hashes, nil
}

func parseHash(text string) (tlog.Hash, error) {
	var hash tlog.Hash
	bytes, err := hex.DecodeString(text)
	if err != nil || len(bytes) != tlog.HashSize {
		return hash, fmt.Errorf("%q is not a 32-byte hash in hex", text)
	}
	copy(hash[:], bytes)
	return hash, nil
}

func hashFlags(command string, arguments []string, names ...string) ([]byte, []tlog.Hash, error) {
	texts := make([]string, len(names))
	values := make(map[string]*string, len(names))
	for position, name := range names {
		values[name] = &texts[position]
	}
	content, err := parse(command, arguments, values)
	if err != nil {
		return nil, nil, err
	}
	hashes := make([]tlog.Hash, len(names))
	for position, text := range texts {
		if hashes[position], err = parseHash(text); err != nil {
			return nil, nil, usageError{"--" + names[position] + ": " + err.Error()}
		}
	}
	return content, hashes, nil
}

// proofArguments reads a proof subcommand's arguments: the hashes of the
// flags in names, and the proof in the file.
func proofArguments(command string, arguments []string, names ...string) (proof, []tlog.Hash, []tlog.Hash, error) {
	content, given, err := hashFlags(command, arguments, names...)
	if err != nil {
		return proof{}, nil, nil, err
	}
	body, hashes, err := readProof(content)
	return body, given, hashes, err
}

// checkInclusion runs tlog.CheckRecord: the leaf is the index'th record
// of the tree of tree_size records whose root is given.
func checkInclusion(arguments []string) error {
	body, given, hashes, err := proofArguments("inclusion", arguments, "leaf", "root")
	if err != nil {
		return err
	}
	if body.Index == nil || body.TreeSize == nil {
		return errors.New("the proof has no index or tree_size")
	}
	if err := tlog.CheckRecord(hashes, *body.TreeSize, given[1], *body.Index, given[0]); err != nil {
		return fmt.Errorf("sumdb/tlog refuses the inclusion of %d in %d: %w", *body.Index, *body.TreeSize, err)
	}
	fmt.Printf("leaf %d is in the tree of size %d\n", *body.Index, *body.TreeSize)
	return nil
}

// checkConsistency runs tlog.CheckTree: the tree of the second size
// extends the tree of the first.
func checkConsistency(arguments []string) error {
	body, given, hashes, err := proofArguments("consistency", arguments, "old-root", "new-root")
	if err != nil {
		return err
	}
	if body.First == nil || body.Second == nil {
		return errors.New("the proof has no first or second")
	}
	if err := tlog.CheckTree(hashes, *body.Second, given[1], *body.First, given[0]); err != nil {
		return fmt.Errorf("sumdb/tlog refuses %d -> %d: %w", *body.First, *body.Second, err)
	}
	fmt.Printf("the tree of size %d extends the tree of size %d\n", *body.Second, *body.First)
	return nil
}

// The rest follows C2SP tlog-cosignature (cosignature/v1) and C2SP
// signed-note, read from their text; sumdb/note knows no type 0x04 key.

const cosignatureType = 0x04

// A cosigner is a witness's name and Ed25519 key, from its verifier key
// "name+<8 hex key id>+base64(0x04 || key)".
type cosigner struct {
	name  string
	keyID [4]byte
	key   ed25519.PublicKey
}

// cosignerKeyID is SHA-256(name || "\n" || 0x04 || key)[:4].
func cosignerKeyID(name string, key ed25519.PublicKey) [4]byte {
	digest := sha256.New()
	digest.Write([]byte(name))
	digest.Write([]byte{'\n', cosignatureType})
	digest.Write(key)
	var id [4]byte
	copy(id[:], digest.Sum(nil))
	return id
}

func parseCosigner(vkey string) (cosigner, error) {
	// The name has no '+' and the key id is hex: the first two split it.
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 {
		return cosigner{}, errors.New("not name+keyid+key")
	}
	id, err := hex.DecodeString(parts[1])
	if err != nil {
		return cosigner{}, errors.New("the key id is not hex")
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 1+ed25519.PublicKeySize {
		return cosigner{}, errors.New("the key is not base64 of a type byte and 32 bytes")
	}
	if material[0] != cosignatureType {
		return cosigner{}, fmt.Errorf("signature type 0x%02x is not 0x04 (cosignature/v1)", material[0])
	}
	witness := cosigner{name: parts[0], key: ed25519.PublicKey(material[1:])}
	witness.keyID = cosignerKeyID(witness.name, witness.key)
	if !bytes.Equal(id, witness.keyID[:]) {
		return cosigner{}, fmt.Errorf("the key id %s is not SHA-256(name||\"\\n\"||0x04||key)[:4] = %x", parts[1], witness.keyID)
	}
	return witness, nil
}

// splitNote returns a signed note's text (with its final newline) and its
// signature lines. The text ends at the last blank line: it may contain
// blank lines itself, signature lines never are.
func splitNote(message []byte) (string, []string, error) {
	split := bytes.LastIndex(message, []byte("\n\n"))
	if split < 0 {
		return "", nil, errors.New("the note has no blank line before its signatures")
	}
	text, signatures := string(message[:split+1]), string(message[split+2:])
	if !strings.HasSuffix(signatures, "\n") {
		return "", nil, errors.New("the signature lines do not end in a newline")
	}
	return text, strings.Split(strings.TrimSuffix(signatures, "\n"), "\n"), nil
}

// cosignedMessage is what a cosignature/v1 signs: the header line, the
// time line, then the whole note text.
func cosignedMessage(text string, timestamp uint64) []byte {
	return []byte("cosignature/v1\ntime " + strconv.FormatUint(timestamp, 10) + "\n" + text)
}

// checkCosignature finds the witness's signature line (its name, then
// base64 of key id || u64 big-endian timestamp || 64-byte Ed25519
// signature) and verifies it.
func checkCosignature(arguments []string) error {
	var vkey string
	message, err := parse("cosignature", arguments, map[string]*string{"vkey": &vkey})
	if err != nil {
		return err
	}
	witness, err := parseCosigner(vkey)
	if err != nil {
		return usageError{fmt.Sprintf("verifier key %q: %v", vkey, err)}
	}
	text, lines, err := splitNote(message)
	if err != nil {
		return err
	}
	prefix := "\u2014 " + witness.name + " "
	candidates := 0
	for _, line := range lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, prefix))
		if err != nil || len(blob) < 4 || !bytes.Equal(blob[:4], witness.keyID[:]) {
			continue
		}
		candidates++
		if len(blob) != 4+8+ed25519.SignatureSize {
			continue
		}
		timestamp := binary.BigEndian.Uint64(blob[4:12])
		if timestamp > 1<<63-1 {
			continue
		}
		if ed25519.Verify(witness.key, cosignedMessage(text, timestamp), blob[12:]) {
			fmt.Println(timestamp)
			return nil
		}
	}
	if candidates == 0 {
		return fmt.Errorf("no signature line of %q with key id %x", witness.name, witness.keyID)
	}
	return fmt.Errorf("the cosignature of %q does not verify", witness.name)
}

// deriveVector prints the cosignature line of the test vector in
// docs/notes/go-interop.md, made here rather than by Anchorfin's Rust.
func deriveVector(arguments []string) error {
	if len(arguments) != 0 {
		return usageError{"derive-vector takes no arguments"}
	}
	const (
		name      = "w1"
		timestamp = uint64(1679315147)
		text      = "anchorfin.local/ledger\n4\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntimestamp 1764000000000\n"
	)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	public := key.Public().(ed25519.PublicKey)
	id := cosignerKeyID(name, public)
	blob := make([]byte, 0, 4+8+ed25519.SignatureSize)
	blob = append(blob, id[:]...)
	blob = binary.BigEndian.AppendUint64(blob, timestamp)
	blob = append(blob, ed25519.Sign(key, cosignedMessage(text, timestamp))...)
	fmt.Printf("\u2014 %s %s\n", name, base64.StdEncoding.EncodeToString(blob))
	return nil
}
