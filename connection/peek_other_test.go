//go:build !unix

package connection_test

import (
	"errors"
	"net"
)

var errNoPeek = errors.New("waiting for a socket's receive queue needs MSG_PEEK")

func waitBuffered(nc net.Conn, want bool) error { return errNoPeek }
