// h2peer: a Go HTTP/2 peer for h2wasm's interop tests, built on the standard library and
// golang.org/x/net/http2 only. test/interop/go.test.ts builds it once and drives it.
//
//	h2peer version                      JSON {"go": "...", "xnet": "..."}
//	h2peer cert DIR                     writes DIR/cert.pem and DIR/key.pem (P-256, 127.0.0.1/localhost)
//	h2peer client URL [flags]           requests, then one JSON object per request on stdout
//	h2peer server [flags]               serves; prints "listening URL" on stdout, runs until killed
//
// Both roles speak the same little protocol, so either side can check the other:
//
//	POST /?respond=N  the request body is read to its end (sha256, length) and its trailers;
//	                  then N bytes of gen(2, N) are streamed back, flushed per chunk, with
//	                  trailers x-request-bytes, x-request-sha256, x-response-sha256 and
//	                  x-echo-<name> for every request trailer <name>.
//	POST /echo        the request body is streamed back as it arrives (full duplex), with
//	                  trailers x-request-bytes, x-request-sha256 and the x-echo-* ones.
//
// Request bodies are gen(1, N), written through an io.Pipe in --chunk sized pieces.
// gen(seed, n) is xorshift32 from 0x9E3779B9^seed, four little-endian bytes per step;
// the test computes the same bytes.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: h2peer version | cert DIR | client URL [flags] | server [flags]")
	}
	var err error
	switch os.Args[1] {
	case "version":
		err = json.NewEncoder(os.Stdout).Encode(map[string]string{"go": runtime.Version(), "xnet": xnetVersion()})
	case "cert":
		if len(os.Args) != 3 {
			fail("usage: h2peer cert DIR")
		}
		err = writeCert(os.Args[2])
	case "client":
		err = clientMain(os.Args[2:])
	case "server":
		err = serverMain(os.Args[2:])
	default:
		fail("unknown command " + os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "h2peer: "+msg)
	os.Exit(1)
}

func xnetVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "golang.org/x/net" {
				return d.Version
			}
		}
	}
	return "unknown"
}

// ---- the body generator ---------------------------------------------------------------

type gen struct {
	state uint32
	left  int64
	buf   [4]byte
	have  int
}

func newGen(seed uint32, n int64) *gen { return &gen{state: 0x9E3779B9 ^ seed, left: n} }

func (g *gen) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		if g.have == 0 {
			x := g.state
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			g.state = x
			g.buf = [4]byte{byte(x), byte(x >> 8), byte(x >> 16), byte(x >> 24)}
			g.have = 4
		}
		p[i] = g.buf[4-g.have]
		g.have--
	}
	g.left -= int64(len(p))
	return len(p), nil
}

// ---- client ---------------------------------------------------------------------------

type result struct {
	Request      string            `json:"request"`
	Proto        string            `json:"proto"`
	Status       int               `json:"status"`
	Headers      map[string]string `json:"headers"`
	Bytes        int64             `json:"bytes"`
	SHA256       string            `json:"sha256"`
	Text         string            `json:"text,omitempty"`
	Trailers     map[string]string `json:"trailers"`
	SentBytes    int64             `json:"sentBytes"`
	SentSHA256   string            `json:"sentSha256"`
	SentTrailers map[string]string `json:"sentTrailers"`
	Error        string            `json:"error,omitempty"`
}

func clientMain(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: h2peer client URL [--sizes N,N] [--chunk N] [--path P] [--trailers k=v,k=v] [--respond same|N]")
	}
	base, err := url.Parse(args[0])
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	sizes := fs.String("sizes", "0", "request body sizes, comma-separated; one request each, in turn, on one connection")
	chunk := fs.Int("chunk", 16384, "bytes per write into the request body pipe")
	path := fs.String("path", "/", "path; ?respond=N is added unless it is /echo or --respond is none")
	respond := fs.String("respond", "same", "response size to ask for: same (as the request), none, or a number")
	trailers := fs.String("trailers", "", "request trailers, k=v,k=v")
	timeout := fs.Duration("timeout", 60*time.Second, "overall deadline")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	var tr *http2.Transport
	switch base.Scheme {
	case "http": // h2c with prior knowledge
		tr = &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	case "https":
		tr = &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}}
	default:
		return fmt.Errorf("unsupported scheme %q", base.Scheme)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: *timeout}

	sentTrailers := map[string]string{}
	if *trailers != "" {
		for _, kv := range strings.Split(*trailers, ",") {
			k, v, _ := strings.Cut(kv, "=")
			sentTrailers[strings.ToLower(k)] = v
		}
	}
	out := json.NewEncoder(os.Stdout)
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		target := *base
		target.Path = *path
		if *path != "/echo" && *respond != "none" {
			m := *respond
			if m == "same" {
				m = s
			}
			target.RawQuery = "respond=" + m
		}
		r := doRequest(client, target.String(), n, *chunk, sentTrailers)
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func doRequest(client *http.Client, target string, n int64, chunk int, trailers map[string]string) (r result) {
	r = result{Request: "POST " + target, Headers: map[string]string{}, Trailers: map[string]string{}, SentTrailers: trailers}
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", target, pr)
	if err != nil {
		r.Error = err.Error()
		return
	}
	req.ContentLength = -1 // streamed: no content-length
	req.Header.Set("content-type", "application/octet-stream")
	if len(trailers) > 0 {
		req.Trailer = http.Header{}
		for k := range trailers {
			req.Trailer[http.CanonicalHeaderKey(k)] = nil // announced now, valued before the body ends
		}
	}
	sent := make(chan struct{})
	go func() { // feeds the pipe chunk by chunk; trailer values are set before EOF
		defer close(sent)
		h := sha256.New()
		g := newGen(1, n)
		buf := make([]byte, chunk)
		for {
			k, err := io.ReadFull(g, buf)
			if k > 0 {
				h.Write(buf[:k])
				if _, werr := pw.Write(buf[:k]); werr != nil {
					return
				}
				r.SentBytes += int64(k)
			}
			if err != nil {
				break
			}
		}
		r.SentSHA256 = hex.EncodeToString(h.Sum(nil))
		for k, v := range trailers {
			req.Trailer.Set(k, v)
		}
		pw.Close()
	}()
	resp, err := client.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		<-sent
		r.Error = err.Error()
		return
	}
	defer resp.Body.Close()
	r.Proto, r.Status = resp.Proto, resp.StatusCode
	for k, v := range resp.Header {
		r.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	h := sha256.New()
	var first []byte
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			if len(first) < 4096 {
				first = append(first, buf[:min(k, 4096-len(first))]...)
			}
			r.Bytes += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Error = err.Error()
			break
		}
	}
	r.SHA256 = hex.EncodeToString(h.Sum(nil))
	if r.Bytes <= 4096 {
		r.Text = string(first)
	}
	for k, v := range resp.Trailer {
		r.Trailers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	<-sent
	return
}

// ---- server ---------------------------------------------------------------------------

func serverMain(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	port := fs.Int("port", 0, "port on 127.0.0.1 (0: any free one)")
	cert := fs.String("tls-cert", "", "PEM certificate: serve h2 over TLS (else h2c)")
	key := fs.String("tls-key", "", "PEM key")
	chunk := fs.Int("chunk", 16384, "bytes per response write (each flushed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	h := handler{chunk: *chunk}
	h2s := &http2.Server{}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			return err
		}
		srv.Handler = h
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}}
		// x/net's server (not the copy bundled in net/http) for h2 over TLS.
		if err := http2.ConfigureServer(srv, h2s); err != nil {
			return err
		}
		srv.TLSConfig.NextProtos = []string{"h2"}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	} else {
		srv.Handler = h2c.NewHandler(h, h2s)
	}
	fmt.Printf("listening %s://%s\n", scheme, ln.Addr())
	go func() { // stop when the parent goes away (stdin closes)
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	// Over TLS the listener already is one: Serve hands each conn that negotiated h2 to
	// TLSNextProto, which ConfigureServer pointed at x/net's server.
	return srv.Serve(ln)
}

type handler struct{ chunk int }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 {
		http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
		return
	}
	flusher := w.(http.Flusher)
	echoed := func() {
		names := make([]string, 0, len(r.Trailer))
		for k := range r.Trailer {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			w.Header().Set(http.TrailerPrefix+"x-echo-"+strings.ToLower(k), strings.Join(r.Trailer[k], ", "))
		}
	}
	if r.URL.Path == "/echo" {
		// Full duplex: every chunk goes back (and is flushed) as it arrives.
		w.Header().Set("Trailer", "x-request-bytes, x-request-sha256")
		w.Header().Set("content-type", "application/octet-stream")
		w.WriteHeader(200)
		flusher.Flush()
		sum := sha256.New()
		var n int64
		buf := make([]byte, 32<<10)
		for {
			k, err := r.Body.Read(buf)
			if k > 0 {
				sum.Write(buf[:k])
				n += int64(k)
				if _, werr := w.Write(buf[:k]); werr != nil {
					return
				}
				flusher.Flush()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		w.Header().Set("x-request-bytes", strconv.FormatInt(n, 10))
		w.Header().Set("x-request-sha256", hex.EncodeToString(sum.Sum(nil)))
		echoed()
		return
	}
	respond, err := strconv.ParseInt(r.URL.Query().Get("respond"), 10, 64)
	if err != nil || respond < 0 {
		http.Error(w, "want ?respond=N", http.StatusBadRequest)
		return
	}
	sum := sha256.New()
	n, err := io.Copy(sum, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Trailer", "x-request-bytes, x-request-sha256, x-response-sha256")
	w.Header().Set("content-type", "application/octet-stream")
	w.WriteHeader(200)
	flusher.Flush()
	out := sha256.New()
	g := newGen(2, respond)
	buf := make([]byte, h.chunk)
	for {
		k, err := io.ReadFull(g, buf)
		if k > 0 {
			out.Write(buf[:k])
			if _, werr := w.Write(buf[:k]); werr != nil {
				return
			}
			flusher.Flush()
		}
		if err != nil {
			break
		}
	}
	w.Header().Set("x-request-bytes", strconv.FormatInt(n, 10))
	w.Header().Set("x-request-sha256", hex.EncodeToString(sum.Sum(nil)))
	w.Header().Set("x-response-sha256", hex.EncodeToString(out.Sum(nil)))
	echoed()
}

// ---- a throwaway certificate ----------------------------------------------------------

func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
}
