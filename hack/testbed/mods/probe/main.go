// Command probe is the network helper baked into the testbed's test image.
//
//	probe serve PORT...            accept TCP on every PORT; each connection
//	                               gets one banner line and is closed
//	probe dial [-timeout D] [-banner=false] ADDR
//	                               connect to ADDR (host:port) and print the
//	                               banner line (or "connected" without
//	                               -banner, for servers that send none);
//	                               exit 0 if connected, 1 if not
//	probe resolve [-timeout D] NAME
//	                               look NAME up through the pod's
//	                               /etc/resolv.conf and print each address
//	                               on a line; exit 1 if it does not resolve
//	probe get [-timeout D] URL     fetch an http:// URL (names resolved as
//	                               resolve does; busybox's static wget
//	                               cannot) and print the body; exit 1 on
//	                               any failure or a status other than 200
//
// The banner names the pod (its hostname) and the port, so a test can tell
// which pod answered and that the answer came from the real server.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "dial":
		err = dial(os.Args[2:])
	case "resolve":
		err = resolve(os.Args[2:])
	case "get":
		err = get(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: probe serve PORT... | probe dial [-timeout D] [-banner=false] HOST:PORT | probe resolve [-timeout D] NAME | probe get [-timeout D] URL")
	os.Exit(2)
}

// serve listens on every given port and answers each connection with a banner.
func serve(args []string) error {
	if len(args) == 0 {
		return errors.New("serve needs at least one port")
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("failed to read hostname: %w", err)
	}
	errs := make(chan error, len(args))
	for _, arg := range args {
		port, err := strconv.ParseUint(arg, 10, 16)
		if err != nil || port == 0 {
			return fmt.Errorf("invalid port %q: want a number from 1 to 65535", arg)
		}
		l, err := net.Listen("tcp", ":"+arg)
		if err != nil {
			return fmt.Errorf("failed to listen on port %d: %w", port, err)
		}
		go func() { errs <- accept(l, fmt.Sprintf("probe %s port %d\n", host, port)) }()
	}
	fmt.Printf("serving on ports %s\n", strings.Join(args, " "))
	return <-errs
}

func accept(l net.Listener, banner string) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return fmt.Errorf("failed to accept on %s: %w", l.Addr(), err)
		}
		go func() {
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(c, banner)
		}()
	}
}

// dial connects to one address and prints the banner it receives.
func dial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Second, "give up connecting and reading after this long")
	banner := fs.Bool("banner", true, "read and print the server's banner line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("dial needs exactly one HOST:PORT")
	}
	addr := fs.Arg(0)
	c, err := net.DialTimeout("tcp", addr, *timeout)
	if err != nil {
		return fmt.Errorf("%s: failed to connect to %s: %w", classify(err), addr, err)
	}
	defer c.Close()
	if !*banner {
		fmt.Println("connected")
		return nil
	}
	_ = c.SetReadDeadline(time.Now().Add(*timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: connected to %s but read no banner: %w", classify(err), addr, err)
	}
	fmt.Print(line)
	return nil
}

// resolve looks a name up and prints its addresses.
func resolve(args []string) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("resolve needs exactly one NAME")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("failed to resolve %s: %w", fs.Arg(0), err)
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return nil
}

// get fetches one plain-HTTP URL and prints the body.
func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("get needs exactly one URL")
	}
	// No proxy from the environment: the test decides where packets go.
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{}}
	resp, err := client.Get(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("failed to get %s: %w", fs.Arg(0), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("failed to read the answer of %s: %w", fs.Arg(0), err)
	}
	_, _ = os.Stdout.Write(body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d", fs.Arg(0), resp.StatusCode)
	}
	return nil
}

// classify names the failure the way a reader of test output wants to see it.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "error"
	}
}
