package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
)

// keyFlags are the authentication-key flags shared by every command that talks to a peer.
//
// The key comes from exactly one of --authkey-file (the file's bytes, one trailing newline
// removed), --authkey-hex (hex digits, as `mpgo serve` prints a generated key), --authkey (the
// string's bytes) or, when none is given, $MPGO_AUTHKEY (the string's bytes). An empty
// $MPGO_AUTHKEY counts as not given. Prefer the file or the environment: command lines are
// visible to other users of the machine.
type keyFlags struct {
	raw, hexKey, file string
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.file, "authkey-file", "", "read the authentication key from this file (one trailing newline is removed)")
	fs.StringVar(&k.hexKey, "authkey-hex", "", "authentication key as `HEX` digits (as mpgo serve prints a generated one)")
	fs.StringVar(&k.raw, "authkey", "", "authentication key (prefer --authkey-file or $MPGO_AUTHKEY: command lines are visible to other users)")
}

// resolve returns the key; ok is false when no source gave one.
func (k *keyFlags) resolve() (key []byte, ok bool, err error) {
	given := 0
	for _, s := range []string{k.raw, k.hexKey, k.file} {
		if s != "" {
			given++
		}
	}
	if given > 1 {
		return nil, false, usagef("give only one of --authkey, --authkey-hex and --authkey-file")
	}
	switch {
	case k.file != "":
		b, err := os.ReadFile(k.file)
		if err != nil {
			return nil, false, err
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), true, nil
	case k.hexKey != "":
		b, err := hex.DecodeString(k.hexKey)
		if err != nil {
			return nil, false, usagef("--authkey-hex: %v", err)
		}
		return b, true, nil
	case k.raw != "":
		return []byte(k.raw), true, nil
	}
	if env := os.Getenv("MPGO_AUTHKEY"); env != "" {
		return []byte(env), true, nil
	}
	return nil, false, nil
}
