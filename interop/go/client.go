//go:build ignore

// Command client is the Go crypto/tls client peer of the tlschart interop
// harness: it connects -n times to one TLS 1.3 server with one
// tls.NewLRUClientSessionCache, so the second and later connections offer the
// ticket the server sent on an earlier one.
//
// Output (stdout, one line per connection, key=value, values with spaces quoted):
//
//	conn=<n> resumed=<DidResume> version=TLSv1.3 suite=<IANA name> alpn=<proto> received=<bytes> end=eof|idle
//	conn=<n> error="<error>"
//
// The Go TLS 1.3 client only processes NewSessionTicket messages while reading,
// so after writing -send it reads until the server closes or has been silent
// for -wait. It exits 1 when any connection failed.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "client: "+format+"\n", args...)
	os.Exit(2)
}

func parseGroups(list string) ([]tls.CurveID, error) {
	if list == "" {
		return nil, nil
	}
	var out []tls.CurveID
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ':' }) {
		switch strings.ToLower(name) {
		case "x25519":
			out = append(out, tls.X25519)
		case "p-256", "prime256v1", "secp256r1":
			out = append(out, tls.CurveP256)
		case "p-384", "secp384r1":
			out = append(out, tls.CurveP384)
		case "p-521", "secp521r1":
			out = append(out, tls.CurveP521)
		default:
			return nil, fmt.Errorf("unknown group %q", name)
		}
	}
	return out, nil
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	default:
		return fmt.Sprintf("0x%04x", v)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func main() {
	host := flag.String("host", "127.0.0.1", "server address")
	port := flag.Int("port", 0, "server port")
	count := flag.Int("n", 1, "number of sequential connections")
	groups := flag.String("groups", "", "CurvePreferences, comma or colon separated; Go sends a key share for the first only")
	serverName := flag.String("servername", "", "SNI and name to verify (default: none sent, verify the IP)")
	caFile := flag.String("cafile", "", "PEM file of trusted roots; without it the server certificate is not verified")
	send := flag.String("send", "ping\n", "bytes to write after each handshake (empty: write nothing)")
	wait := flag.Duration("wait", 2*time.Second, "stop reading after the server has been silent this long")
	alpn := flag.String("alpn", "", "comma separated ALPN protocols")
	certFile := flag.String("cert", "", "client certificate (PEM) for client authentication")
	keyFile := flag.String("key", "", "client private key (PEM)")
	flag.Parse()

	if *port <= 0 {
		fail("-port is required")
	}
	curves, err := parseGroups(*groups)
	if err != nil {
		fail("%v", err)
	}
	config := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		CurvePreferences:   curves,
		ClientSessionCache: tls.NewLRUClientSessionCache(16),
		ServerName:         *serverName,
	}
	if *serverName == "" {
		config.ServerName = *host
	}
	if *caFile == "" {
		config.InsecureSkipVerify = true
	} else {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fail("reading -cafile: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in -cafile")
		}
		config.RootCAs = pool
	}
	if *alpn != "" {
		config.NextProtos = strings.Split(*alpn, ",")
	}
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fail("loading client key pair: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}

	failed := false
	addr := net.JoinHostPort(*host, fmt.Sprint(*port))
	for n := 1; n <= *count; n++ {
		if err := connect(n, addr, config, *send, *wait); err != nil {
			fmt.Printf("conn=%d error=%q\n", n, err.Error())
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func connect(n int, addr string, config *tls.Config, send string, wait time.Duration) error {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", addr, config)
	if err != nil {
		return err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if send != "" {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte(send)); err != nil {
			return err
		}
	}
	received := 0
	end := "eof"
	buf := make([]byte, 16384)
	for {
		conn.SetReadDeadline(time.Now().Add(wait))
		got, err := conn.Read(buf)
		received += got
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if isTimeout(err) {
			end = "idle"
			break
		}
		return err
	}
	fmt.Printf("conn=%d resumed=%t version=%s suite=%s alpn=%s received=%d end=%s\n",
		n, st.DidResume, versionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
		orDash(st.NegotiatedProtocol), received, end)
	return nil
}
