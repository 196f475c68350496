package connection

import (
	"net"
	"strconv"
	"strings"

	"github.com/mpgo/mpgo/pickle"
)

// ParseAddress maps an address as users write it to a Go network and
// address:
//
//	"host:port", "[::1]:port"        -> "tcp", unchanged
//	"@name" or "\x00name" (Linux)    -> "unix", "@name" (abstract socket)
//	anything else ("/tmp/x.sock")    -> "unix", unchanged (a filesystem path)
func ParseAddress(s string) (network, address string) {
	switch {
	case strings.HasPrefix(s, "@"):
		return "unix", s
	case strings.HasPrefix(s, "\x00"):
		return "unix", "@" + s[1:]
	case strings.Contains(s, "/"):
		return "unix", s
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err == nil {
			return "tcp", s
		}
	}
	return "unix", s
}

// normalizeUnix rewrites a leading NUL (Python's spelling of an abstract
// name) to Go's "@".
func normalizeUnix(network, address string) string {
	if strings.HasPrefix(network, "unix") && strings.HasPrefix(address, "\x00") {
		return "@" + address[1:]
	}
	return address
}

// PythonAddress returns the address as Python's multiprocessing represents
// it (Listener.address, Token.address), in the pickle value model:
//
//	*net.TCPAddr              -> pickle.Tuple{host string, port int64}
//	*net.UnixAddr, a path     -> string
//	*net.UnixAddr, "@name"    -> []byte("\x00name") (Python reports abstract names as bytes)
//
// Unspecified TCP hosts become "0.0.0.0". A nil address gives nil; other
// types give a.String().
func PythonAddress(a net.Addr) any {
	switch a := a.(type) {
	case nil:
		return nil
	case *net.TCPAddr:
		if a == nil {
			return nil
		}
		host := "0.0.0.0"
		if a.IP != nil && !a.IP.IsUnspecified() {
			host = a.IP.String()
		}
		return pickle.Tuple{host, int64(a.Port)}
	case *net.UnixAddr:
		if a == nil {
			return nil
		}
		if strings.HasPrefix(a.Name, "@") {
			return []byte("\x00" + a.Name[1:])
		}
		return a.Name
	}
	return a.String()
}
