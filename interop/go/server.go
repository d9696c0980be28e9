//go:build ignore

// Command server is the Go crypto/tls peer of the tlschart interop harness:
// a TLS 1.3-only server on 127.0.0.1 that prints one line per connection.
//
// Output (stdout, one line each, key=value, values with spaces are quoted):
//
//	listening port=<port>
//	conn=<n> resumed=<DidResume> version=TLSv1.3 suite=<IANA name> alpn=<proto> sni=<name>
//	conn=<n> error="<handshake or I/O error>"
//
// Built by interop/peers.ts (buildGo) with the standard library only.
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
	"sync"
	"time"
)

var printMu sync.Mutex

func say(format string, args ...any) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "server: "+format+"\n", args...)
	os.Exit(2)
}

// parseGroups maps names as OpenSSL spells them (x25519, P-256, P-384, P-521,
// also prime256v1/secp256r1/secp384r1/secp521r1) to Go curve IDs.
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

func main() {
	certFile := flag.String("cert", "", "PEM certificate chain file")
	keyFile := flag.String("key", "", "PEM private key file")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "port to listen on (0 picks a free one; the chosen port is printed)")
	groups := flag.String("groups", "", "CurvePreferences, comma or colon separated (x25519,P-256,P-384,P-521)")
	mode := flag.String("mode", "echo", "after the handshake: echo (echo until the client closes) or once (echo one read, then close)")
	noTickets := flag.Bool("no-tickets", false, "set SessionTicketsDisabled (no NewSessionTicket, no resumption)")
	alpn := flag.String("alpn", "", "comma separated ALPN protocols")
	clientAuth := flag.String("client-auth", "none", "none, request or require (with -client-ca)")
	clientCA := flag.String("client-ca", "", "PEM file of CAs for client certificates")
	flag.Parse()

	if *certFile == "" || *keyFile == "" {
		fail("-cert and -key are required")
	}
	if *mode != "echo" && *mode != "once" {
		fail("-mode must be echo or once, got %q", *mode)
	}
	pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fail("loading key pair: %v", err)
	}
	curves, err := parseGroups(*groups)
	if err != nil {
		fail("%v", err)
	}
	config := &tls.Config{
		Certificates:           []tls.Certificate{pair},
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		CurvePreferences:       curves,
		SessionTicketsDisabled: *noTickets,
	}
	if *alpn != "" {
		config.NextProtos = strings.Split(*alpn, ",")
	}
	switch *clientAuth {
	case "none":
	case "request":
		config.ClientAuth = tls.RequestClientCert
	case "require":
		config.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		fail("-client-auth must be none, request or require")
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			fail("reading -client-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in -client-ca")
		}
		config.ClientCAs = pool
	}

	listener, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fail("listen: %v", err)
	}
	say("listening port=%d", listener.Addr().(*net.TCPAddr).Port)

	for n := 1; ; n++ {
		raw, err := listener.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		go serve(n, tls.Server(raw, config), *mode)
	}
}

func serve(n int, conn *tls.Conn, mode string) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := conn.Handshake(); err != nil {
		say("conn=%d error=%q", n, err.Error())
		return
	}
	st := conn.ConnectionState()
	say("conn=%d resumed=%t version=%s suite=%s alpn=%s sni=%s",
		n, st.DidResume, versionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
		orDash(st.NegotiatedProtocol), orDash(st.ServerName))

	buf := make([]byte, 16384)
	for {
		got, err := conn.Read(buf)
		if got > 0 {
			if _, werr := conn.Write(buf[:got]); werr != nil {
				say("conn=%d error=%q", n, werr.Error())
				return
			}
			if mode == "once" {
				return // Close sends close_notify.
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			say("conn=%d error=%q", n, err.Error())
			return
		}
	}
}
